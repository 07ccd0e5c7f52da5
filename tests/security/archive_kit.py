"""Hostile .msproj files built in the tests themselves: git histories (with links, submodules, odd names),
bundles, zips with manifests whose sizes and checksums match — and an in-process studio to import them
into, with a second person's private project next door and snapshots to prove nothing was left behind."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from support import png_bytes

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(56))  # sniffs as a PNG picture (64 bytes)
PASSWORD = "violet tram sixteen"
GITIGNORE = b".mediastudio/\n*.tmp\n"
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Eve", "GIT_AUTHOR_EMAIL": "u_eve@mediastudio.invalid",
           "GIT_COMMITTER_NAME": "Eve", "GIT_COMMITTER_EMAIL": "eve@example.invalid"}


@dataclass(frozen=True)
class Link:
    """A symbolic link in a commit."""

    target: str


@dataclass(frozen=True)
class Gitlink:
    """A submodule entry (mode 160000) in a commit."""

    sha: str = "1" * 40


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True,
                          check=True).stdout


def scene(name: str = "Scene", order: int = 0, **extra: Any) -> bytes:
    return json.dumps({"name": name, "order": order, "graph": {"nodes": {}, "edges": {}}, **extra}).encode()


def project_tree(name: str = "Imported", files: dict[str, Any] | None = None) -> dict[str, Any]:
    """The files of a plain project (project.json, .gitignore, one scene) plus `files` (path → content)."""
    tree: dict[str, Any] = {"project.json": json.dumps({"schema": 1, "name": name, "tags": []}).encode(),
                            ".gitignore": GITIGNORE, "scenes/sc_a.json": scene("First", 0, id="sc_a"),
                            "assets/.keep": b""}
    tree.update(files or {})
    return tree


def _put(repo: Path, path: str, value: Any) -> None:
    target = repo / path
    if value is None:
        git(repo, "rm", "-r", "-q", "--cached", "--ignore-unmatch", path)
        if target.is_symlink() or target.is_file():
            target.unlink()
        return
    if isinstance(value, Gitlink):
        git(repo, "update-index", "--add", "--cacheinfo", f"160000,{value.sha},{path}")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.is_file():
        target.unlink()
    if isinstance(value, Link):
        os.symlink(value.target, target)
    else:
        target.write_bytes(value)
    git(repo, "add", "-f", "--", path)


def history(root: Path, *commits: dict[str, Any]) -> Path:
    """A git repository with one commit per dict (path → bytes, Link, Gitlink, or None to delete)."""
    repo = root / f"history-{len(list(root.glob('history-*')))}"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "core.symlinks", "true")
    for number, files in enumerate(commits):
        for path, value in files.items():
            _put(repo, path, value)
        git(repo, "commit", "-q", "--allow-empty", "-m", f"Commit {number}")
    return repo


def bundle_of(repo: Path) -> bytes:
    target = repo.parent / f"{repo.name}.bundle"
    git(repo, "bundle", "create", "-q", str(target), "--all")
    return target.read_bytes()


def manifest_for(entries: dict[str, bytes], **extra: Any) -> bytes:
    return json.dumps({"format": "mediastudio-project", "format_version": 1, "project": {"name": "Imported"},
                       "entries": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                                   for name, data in entries.items()}, **extra}).encode()


def msproj(entries: dict[str, bytes], *, manifest: bytes | None = None,
           compress: int = zipfile.ZIP_STORED) -> bytes:
    """A zip with a manifest matching `entries` (unless `manifest` is given)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compress) as archive:
        archive.writestr("manifest.json", manifest if manifest is not None else manifest_for(entries))
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def msproj_of(root: Path, *commits: dict[str, Any], blobs: tuple[bytes, ...] = ()) -> bytes:
    entries = {"repo.bundle": bundle_of(history(root, *commits))}
    entries.update({f"blobs/{hashlib.sha256(b).hexdigest()}": b for b in blobs})
    return msproj(entries)


def asset_file(sha: str, **extra: Any) -> bytes:
    return json.dumps({"name": "Frame", "category": "image", "mime": "image/png", "size": 64, "sha256": sha,
                       "created_by": "u_eve", "tags": [], "trashed_at": None, **extra}).encode()


# -- the studio ------------------------------------------------------------------------------------------
@dataclass
class Studio:
    """An in-process studio with Ana (who imports) and Vic's private project next door."""

    client: TestClient
    data_dir: Path
    victim: dict[str, Any] = field(default_factory=dict)
    victim_asset: dict[str, Any] = field(default_factory=dict)

    def call(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        if method != "GET":
            headers.setdefault("X-CSRF-Token", self.client.cookies.get("ms_csrf") or "")
        return self.client.request(method, url, headers=headers, **kwargs)

    def login(self, username: str) -> None:
        answer = self.call("POST", "/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text

    def import_(self, data: bytes, path: str = "/api/v1/projects/import") -> Any:
        return self.call("POST", path, content=data, headers={"Content-Type": "application/zip"})

    @property
    def victim_folder(self) -> Path:
        return self.data_dir / "workspaces" / self.victim["workspace_id"] / "projects" / self.victim["id"]

    def project_folder(self, project: dict[str, Any]) -> Path:
        return self.data_dir / "workspaces" / project["workspace_id"] / "projects" / project["id"]


def open_studio(client: TestClient, data_dir: Path) -> Studio:
    studio = Studio(client, data_dir)
    assert studio.call("POST", "/api/v1/auth/setup", json={"username": "ana", "password": PASSWORD,
                                                            "mode": "class"}).status_code == 201  # others register
    assert studio.call("POST", "/api/v1/auth/register", json={"username": "vic", "password": PASSWORD}
                       ).status_code == 201
    studio.login("vic")
    studio.victim = studio.call("POST", "/api/v1/projects", json={"name": "Private"}).json()
    upload = studio.call("POST", f"/api/v1/projects/{studio.victim['id']}/assets",
                         files={"file": ("secret.png", png_bytes((9, 8, 7), (32, 32)), "image/png")})
    assert upload.status_code == 201, upload.text
    studio.victim_asset = upload.json()["items"][0] if "items" in upload.json() else upload.json()[0]
    # An upload's commit is made within the commit window; reading the history makes it now, so the snapshots
    # the tests compare start from Vic's settled history (not one that gains her upload mid-test).
    assert studio.call("GET", f"/api/v1/projects/{studio.victim['id']}/history").status_code == 200
    studio.login("ana")
    return studio


def snapshot(studio: Studio) -> dict[str, Any]:
    """What an import that is refused must leave as it was."""
    data = studio.data_dir
    return {
        "projects": sorted(p.name for p in data.glob("workspaces/*/projects/*")),
        "blobs": sorted(p.name for p in (data / "blobs" / "sha256").rglob("*") if p.is_file()),
        "victim": {p.relative_to(studio.victim_folder).as_posix(): p.read_bytes()
                   for p in studio.victim_folder.rglob("*") if p.is_file() and ".git" not in p.parts},
        "victim_head": git(studio.victim_folder, "rev-parse", "HEAD"),
    }


def leftovers(studio: Studio) -> list[str]:
    """Files an import left in the temporary folders (the spool, the staging, unpacked blobs)."""
    places = [studio.data_dir / "tmp", studio.data_dir / "blobs" / "incoming"]
    return [str(p) for place in places if place.exists() for p in place.rglob("*") if p.is_file()]


def refused(studio: Studio, answer: Any, before: dict[str, Any], *words: str) -> str:
    """The import answered 400 with a readable message naming `words`, and left nothing behind."""
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["detail"].startswith(("This file cannot be imported", "The file is larger", "The form")), body
    for word in words:
        assert word in body["detail"], body
    assert str(studio.data_dir) not in answer.text and "/tmp/" not in answer.text, body
    assert snapshot(studio) == before
    assert leftovers(studio) == []
    return str(body["detail"])
