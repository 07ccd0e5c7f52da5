"""Portability: projects in and out of the studio. A .msproj file (the project's git history as a bundle plus
its media) is exported and imported here, checked as hostile input; bulk actions on many projects live here too."""
