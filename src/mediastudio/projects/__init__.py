"""Projects: git-versioned folders, their index, templates, history, export and import."""
