"""Events: a small in-process bus and the `WS /api/v1/events` stream (tasks, projects, assets)."""
