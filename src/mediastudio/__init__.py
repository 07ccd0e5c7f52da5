"""Mediastudio: a self-hostable generative media studio for film and video production."""

__version__ = "0.1.0"
