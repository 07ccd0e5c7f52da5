"""What the project endpoints need of the live scene documents, stated here and provided by collab/.

The live documents (collab/rooms.py `Rooms`) sit above projects/: they read and write the project store.
Scene and history endpoints still need them (a graph is read from the open document; a restore reloads
it), so projects/ states the few operations it uses as this abstract class; collab's `Rooms` implements it
and the composition hands the rooms over (the `rooms` dependency of app.py). (An ABC, not a Protocol:
Litestar checks each injected value against its annotation with isinstance.)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from litestar.di import NamedDependency

from mediastudio.graph import Graph
from mediastudio.projects.tables import Project


class LiveScenes(ABC):
    @abstractmethod
    def live_graph(self, project_id: str, scene_id: str) -> Graph | None:
        """The graph of the scene's open document (None when nobody has it open)."""
        ...

    @abstractmethod
    async def apply_rest(self, project: Project, scene_id: str, graph: Graph, user_id: str) -> Graph:
        """Replace the scene's graph through its live document (opened for it); the graph it holds after."""
        ...

    @abstractmethod
    async def patch_reviews(self, project: Project, scene_id: str, changes: dict[str, dict[str, Any]], user_id: str,
                            message: str) -> Graph:
        """Set fields of shot nodes' review states (node id → {field: value}, None unsets) through the scene's live
        document (a shared edit everyone with the scene open sees), committed at once with `message`; the graph
        after. NotFound when a node is gone."""
        ...

    @abstractmethod
    async def close_scene(self, project_id: str, scene_id: str, reason: str) -> None:
        """Save and close the scene's document, telling open clients why."""
        ...

    @abstractmethod
    async def save_version(self, project_id: str, label: str | None = None, by: str | None = None) -> str | None:
        """Write and commit every open document of the project; with a label, as one version of that name
        made even when nothing changed (authored by `by` when no one edited). Answers that version's commit."""
        ...

    @abstractmethod
    async def reload_from_files(self, project_id: str) -> None:
        """Bring the project's open documents to what the scene files now say (after a restore)."""
        ...


LiveScenesDep = NamedDependency[LiveScenes]
