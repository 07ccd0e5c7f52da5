"""The built-in node types (engine/registry.py's `build_node_registry` collects them)."""

from mediastudio.engine.nodes import basic, diffusion, image, output, video

BUILT_IN = (basic, image, diffusion, video, output)
