"""The built-in node types (engine/registry.py's `build_node_registry` collects them)."""

from mediastudio.engine.nodes import basic, diffusion, hires, image, output, reference, steering, video

BUILT_IN = (basic, image, steering, reference, diffusion, hires, video, output)
