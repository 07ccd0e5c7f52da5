"""The built-in node types (engine/registry.py's `build_node_registry` collects them)."""

from mediastudio.engine.nodes import basic, control, diffusion, hires, image, output, steering, video

BUILT_IN = (basic, image, steering, control, diffusion, hires, video, output)
