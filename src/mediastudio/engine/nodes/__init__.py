"""The built-in node types (importing this package registers them)."""

from mediastudio.engine.nodes import basic, diffusion, image, output, video  # noqa: F401
