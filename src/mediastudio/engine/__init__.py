"""The generation engine: node types, graph validation, and an executor that caches every node's outputs."""
