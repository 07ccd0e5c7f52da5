"""Events over Redis pub/sub: every server and worker publishes to one channel and servers listen on it."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("mediastudio")
CHANNEL = "mediastudio:events"


class RedisTransport:
    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - the extra is missing
            raise SystemExit("A Redis queue needs the redis package: pip install 'mediastudio[redis]'.") from exc
        self.client = redis.Redis.from_url(url)
        self.thread: threading.Thread | None = None
        self.pubsub: Any = None
        self.stopping = threading.Event()

    def send(self, event: dict[str, Any]) -> None:
        self.client.publish(CHANNEL, json.dumps(event, separators=(",", ":")))

    def start(self, deliver: Callable[[dict[str, Any]], None]) -> None:
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(CHANNEL)

        def listen() -> None:
            while not self.stopping.is_set():
                try:
                    message = self.pubsub.get_message(timeout=0.5)
                except Exception:
                    if self.stopping.is_set():
                        return
                    log.warning("Lost the Redis event channel; retrying", exc_info=True)
                    self.stopping.wait(1.0)
                    continue
                if message and message.get("type") == "message":
                    try:
                        deliver(json.loads(message["data"]))
                    except Exception:
                        log.exception("A Redis event could not be delivered")

        self.thread = threading.Thread(target=listen, name="mediastudio-redis-events", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=2)
        if self.pubsub is not None:
            self.pubsub.close()
        self.client.close()
