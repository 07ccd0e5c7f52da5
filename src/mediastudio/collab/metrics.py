"""Live collaboration's series for `GET /metrics`: the rooms open, the people in them and the updates
applied. A collector the composition adds; it reads what `Rooms` keeps anyway."""

from __future__ import annotations

from collections.abc import Callable

from mediastudio.collab.rooms import Rooms
from mediastudio.metrics.registry import Registry


def rooms_collector(rooms: Rooms, registry: Registry) -> Callable[[], None]:
    """A collector that copies the rooms' numbers into `registry` at each scrape."""
    open_rooms = registry.gauge("mediastudio_collab_rooms_open", "Live rooms open, by kind (a scene document, "
                                "or a project's presence)", ("kind",))
    members = registry.gauge("mediastudio_collab_members", "Connections in the open scene rooms")
    applied = registry.counter("mediastudio_collab_updates_applied_total",
                               "Document updates applied, logged and relayed by the scene rooms")

    def collect() -> None:
        open_rooms.set(len(rooms.live), "scene")
        open_rooms.set(len(rooms.presence), "presence")
        members.set(sum(len(live.room.members) for live in list(rooms.live.values())))
        applied.set_total(rooms.updates_applied)

    return collect
