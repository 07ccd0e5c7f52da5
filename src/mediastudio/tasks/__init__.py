"""Long operations as tasks: records in SQLite, Huey lanes (gpu, cpu), progress, ETA, cancel, webhooks."""
