"""Real-time collaboration: one Yjs document per scene graph, served from our own pycrdt rooms."""
