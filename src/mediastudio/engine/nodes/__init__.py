"""The built-in node types (engine/registry.py's `build_node_registry` collects them)."""

from mediastudio.engine.nodes import basic, diffusion, hires, image, output, steering, video

BUILT_IN = (basic, image, steering, diffusion, hires, video, output)
