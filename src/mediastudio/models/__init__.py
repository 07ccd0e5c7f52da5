"""Installed models: diffusers folders under data_dir/models, hub pulls, and the pipeline cache."""
