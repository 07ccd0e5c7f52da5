"""Long operations as tasks: records in SQLite, Huey lanes (gpu, cpu), progress, ETA, queue places, cancel.
The kinds of task are registered by the features (tasks/kinds.py)."""
