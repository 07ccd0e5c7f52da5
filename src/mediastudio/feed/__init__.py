"""The live feed: `WS /api/v1/events`, each caller hearing the events of what they may see."""
