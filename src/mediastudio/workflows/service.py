"""The workflow library of a workspace: save, list, search, rename, delete.

Rights follow the workspace (workspaces/roles.py): every member reads the library and saves to it (inserting a
workflow into a scene is a scene edit, checked by the scene's own rights); who saved a workflow, and the
workspace's owners and admins, rename and delete it. Outsiders get 404, as for the workspace itself.
"""

from __future__ import annotations

import base64
import binascii
import json

from sqlmodel import Session, col, or_, select

from mediastudio.auth.tables import User
from mediastudio.common import new_id, utcnow
from mediastudio.errors import BadRequest, Forbidden, NotFound
from mediastudio.graph.fragment import Fragment
from mediastudio.storage.sniff import UnsupportedMedia, sniff
from mediastudio.workflows.tables import Workflow
from mediastudio.workspaces.roles import WorkspaceRole, can_manage_members
from mediastudio.workspaces.service import get_for_user

PREVIEW_TYPES = ("image/png", "image/jpeg", "image/webp")
MAX_LIBRARY = 500  # workflows in one workspace
LIST_MAX = 200


def may_change(workflow: Workflow, user: User, role: WorkspaceRole) -> bool:
    return workflow.created_by == user.id or can_manage_members(role)


def _preview(data_url: str | None) -> tuple[bytes, str] | None:
    if not data_url:
        return None
    head, _, encoded = data_url.partition(",")
    if not head.startswith("data:") or not head.endswith(";base64"):
        raise BadRequest("A workflow's preview is a data: URL of a picture.", field="preview")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("The preview's data is not base64.", field="preview") from exc
    try:
        mime = sniff(data[:64]).mime
    except UnsupportedMedia:
        mime = ""
    if mime not in PREVIEW_TYPES:
        raise BadRequest("A workflow's preview is a PNG, JPEG or WebP picture.", field="preview")
    return data, mime


def member_of(db: Session, user: User, workspace_id: str) -> None:
    """Nothing when `user` is a member of the workspace; NotFound (as for one that does not exist) otherwise."""
    get_for_user(db, user, workspace_id)


def save(db: Session, user: User, workspace_id: str, name: str, description: str, fragment: Fragment,
         preview: str | None) -> tuple[Workflow, bool]:
    get_for_user(db, user, workspace_id)  # a member of it (404 otherwise)
    count = len(db.exec(select(Workflow.id).where(Workflow.workspace_id == workspace_id)).all())
    if count >= MAX_LIBRARY:
        raise BadRequest(f"This workspace's library holds {MAX_LIBRARY} workflows, its most.",
                         hint="Delete workflows no one uses, then save again.")
    picture = _preview(preview)
    workflow = Workflow(id=new_id("wf"), workspace_id=workspace_id, name=" ".join(name.split()),
                        description=description.strip(), graph=fragment.model_dump_json(),
                        node_count=len(fragment.nodes), created_by=user.id,
                        preview=picture[0] if picture else None, preview_mime=picture[1] if picture else None)
    db.add(workflow)
    return workflow, True


def listed(db: Session, user: User, workspace_id: str, q: str | None) -> list[tuple[Workflow, bool]]:
    """The library, newest first; `q` finds words in names and descriptions."""
    _workspace, role = get_for_user(db, user, workspace_id)
    query = select(Workflow).where(Workflow.workspace_id == workspace_id)
    for word in (q or "").split()[:8]:
        like = f"%{word.replace('%', '').replace('_', '')}%"
        query = query.where(or_(col(Workflow.name).ilike(like), col(Workflow.description).ilike(like)))
    rows = db.exec(query.order_by(col(Workflow.updated_at).desc()).limit(LIST_MAX)).all()
    return [(workflow, may_change(workflow, user, role)) for workflow in rows]


def get(db: Session, user: User, workflow_id: str) -> tuple[Workflow, bool]:
    workflow = db.get(Workflow, workflow_id)
    if workflow is None:
        raise NotFound(f"No workflow '{workflow_id[:40]}' is visible to you.")
    try:
        _workspace, role = get_for_user(db, user, workflow.workspace_id)
    except NotFound:
        raise NotFound(f"No workflow '{workflow_id[:40]}' is visible to you.") from None
    return workflow, may_change(workflow, user, role)


def graph_of(workflow: Workflow) -> Fragment:
    return Fragment.model_validate(json.loads(workflow.graph))


def change(db: Session, user: User, workflow_id: str, name: str | None, description: str | None) -> Workflow:
    workflow, allowed = get(db, user, workflow_id)
    if not allowed:
        raise Forbidden("Only who saved this workflow, and the workspace's owners and admins, can change it.")
    if name is not None:
        workflow.name = " ".join(name.split())
    if description is not None:
        workflow.description = description.strip()
    workflow.updated_at = utcnow()
    db.add(workflow)
    return workflow


def remove(db: Session, user: User, workflow_id: str) -> Workflow:
    """Deletes a workflow; answers it (as it was)."""
    workflow, allowed = get(db, user, workflow_id)
    if not allowed:
        raise Forbidden("Only who saved this workflow, and the workspace's owners and admins, can delete it.")
    db.delete(workflow)
    return workflow
