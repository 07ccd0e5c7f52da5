"""Projects: git-versioned folders and their index (projects, assets), scenes, templates, history, roles, and the
moving gate that keeps live documents out of a folder while it moves."""
