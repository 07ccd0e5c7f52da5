"""Comments on takes, scenes and canvas nodes, and each person's notifications inbox."""
