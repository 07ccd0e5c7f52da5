"""An upload asks the database what it needs and no more: the caller's rights in one query each time they are
checked, their role's limits once, the user's stored total only when there is a quota to hold it to, and no
previews task for a picture that is its own preview."""

from __future__ import annotations

from litestar.testing import TestClient
from test_scene_reads import _admin
from test_scene_writes import _writes, statements

from support import png_bytes


def test_an_upload_with_no_quota_sums_nothing_and_checks_rights_in_one_query(client: TestClient) -> None:
    csrf = _admin(client)
    project = client.post("/api/v1/projects", json={"name": "Uploads"}, headers=csrf).json()
    with statements() as seen:
        answer = client.post(f"/api/v1/projects/{project['id']}/assets", headers=csrf,
                             files={"file": ("frame.png", png_bytes(size=(48, 32)), "image/png")})
    assert answer.status_code == 201, answer.text
    assert not [s for s in seen if "sum(" in s.lower()]  # no quota: the stored total is never summed
    # The role's limits: read once at most (before a byte is read), then from memory in the recording transaction.
    assert len([s for s in seen if "FROM role_quotas" in s]) <= 1
    rights = [s for s in seen if "FROM projects" in s and "project_roles" in s]
    assert 1 <= len(rights) <= 2  # before a byte is read, and again in the transaction that records it
    assert not [s for s in seen if s.startswith("SELECT") and "FROM memberships" in s.split("WHERE")[0]
                and "projects" not in s]  # no separate membership read
    assert "INSERT tasks" not in _writes(seen)
