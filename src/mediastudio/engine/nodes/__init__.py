"""The built-in node types (engine/registry.py's `build_node_registry` collects them)."""

from mediastudio.engine.nodes import basic, control, diffusion, hires, image, output, reference, steering, video

BUILT_IN = (basic, image, steering, reference, control, diffusion, hires, video, output)
