"""Metrics in the Prometheus text format: a small registry (`registry.py`) and the ASGI wrapper that counts
requests and sockets (`http.py`). Features that have something to count add their series to the registry the
composition hands them; only `GET /metrics` (system/metrics_controller.py) reads it, and no feature's work
depends on it."""
