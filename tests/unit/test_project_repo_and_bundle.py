"""Repository operations, atomic files, history summaries and the .msproj format, without a server."""

import io
import json
import zipfile
from pathlib import Path

import pytest

from mediastudio.errors import BadRequest
from mediastudio.projects.bundle import export_bundle, import_bundle, referenced_blobs
from mediastudio.projects.files import read_json, write_json
from mediastudio.projects.history import describe_changes
from mediastudio.projects.repo import Author, ProjectRepo
from mediastudio.storage.blobs import BlobStore

ANA = Author("Ana", "u_ana")
BOB = Author("Bob", "u_bob")


@pytest.fixture
def repo(tmp_path: Path) -> ProjectRepo:
    repo = ProjectRepo.init(tmp_path / "project")
    write_json(repo.path / "project.json", {"name": "Test"})
    repo.commit_all("Created", ANA)
    return repo


def test_commits_carry_the_author_and_co_authors(repo: ProjectRepo) -> None:
    write_json(repo.path / "scenes" / "s1.json", {"id": "s1", "name": "One"})
    sha = repo.commit_all("Added scene", ANA, co_authors=[BOB])
    (newest, first) = repo.log()
    assert newest.sha == sha and newest.author_name == "Ana" and newest.author_id == "u_ana"
    assert "Co-authored-by: Bob <u_bob@mediastudio.invalid>" in newest.message
    assert newest.parents == (first.sha,)
    assert repo.commit_all("Nothing changed", ANA) is None
    assert repo.count_commits() == 2


def test_files_at_and_restore_without_rewriting_history(repo: ProjectRepo) -> None:
    first = repo.log()[0].sha
    write_json(repo.path / "project.json", {"name": "Renamed"})
    write_json(repo.path / "scenes" / "s1.json", {"id": "s1"})
    repo.commit_all("Changed", ANA)
    assert json.loads(repo.files_at(first)["project.json"])["name"] == "Test"
    assert "scenes/s1.json" not in repo.files_at(first)
    repo.checkout_files(first)
    repo.commit_all("Restored", ANA)
    assert read_json(repo.path / "project.json")["name"] == "Test"
    assert not (repo.path / "scenes" / "s1.json").exists()
    assert [c.message for c in repo.log()] == ["Restored", "Changed", "Created"]
    assert repo.resolve(first[:8]) == first and repo.resolve("zzzz") is None and repo.resolve("abc") is None


def test_recover_removes_a_stale_lock_and_commits_complete_leftovers(repo: ProjectRepo) -> None:
    (repo.path / ".git" / "index.lock").write_text("")
    write_json(repo.path / "scenes" / "s2.json", {"id": "s2"})
    (repo.path / "scenes" / ".s3.json.abc.tmp").write_text('{"half')
    assert repo.recover() is True
    assert not (repo.path / ".git" / "index.lock").exists()
    assert not list(repo.path.rglob("*.tmp"))
    assert "scenes/s2.json" in repo.files_at(repo.log()[0].sha)
    assert repo.recover() is False


def test_write_json_is_canonical_and_atomic(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"b": 1, "a": {"d": 2, "c": 3}})
    assert (tmp_path / "a.json").read_text() == '{\n  "a": {\n    "c": 3,\n    "d": 2\n  },\n  "b": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_summaries_read_like_a_person_wrote_them() -> None:
    node = {"type": "text_to_image", "title": "Generate", "params": {"steps": 20}, "position": {"x": 0, "y": 0}}
    before = {"scenes": [{"id": "s", "name": "Hero shot", "graph": {"nodes": {"g": node}, "edges": {}}}]}
    after_graph = {"nodes": {"g": {**node, "params": {"steps": 30}}, "p": {"type": "prompt"}, "q": {"type": "seed"}},
                   "edges": {"p:text->g:prompt": {}}}
    after = {"scenes": [{"id": "s", "name": "Hero shot", "graph": after_graph}]}
    assert describe_changes(before, after) == \
        "Added 2 nodes to 'Hero shot', changed steps on 'Generate', connected 1 edge"
    assert describe_changes(after, {"scenes": []}) == "Deleted scene 'Hero shot'"


def test_bundle_round_trip_carries_every_referenced_blob(repo: ProjectRepo, tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    png = b"\x89PNG\r\n\x1a\n"  # imported media must be media (sniffed like an upload)
    old, new = blobs.put_bytes(png + b"old frame"), blobs.put_bytes(png + b"new frame")
    for sha in (old, new):
        write_json(repo.path / "assets" / "a1.json", {"sha256": sha})
        repo.commit_all("Asset", ANA)
    assert referenced_blobs(repo) == {old, new}
    target = export_bundle(repo.path, blobs, tmp_path / "out.msproj", "Test")
    manifest = json.loads(zipfile.ZipFile(target).read("manifest.json"))
    assert manifest["format"] == "mediastudio-project" and set(manifest["entries"]) == {
        "repo.bundle", f"blobs/{old}", f"blobs/{new}"}

    other = BlobStore(tmp_path / "other-blobs")
    folder, name = import_bundle(target, tmp_path / "staging", other, max_bytes=1 << 30)
    assert name == "Test"
    assert [c.sha for c in ProjectRepo(folder).log()] == [c.sha for c in repo.log()]
    assert other.path(old).read_bytes() == png + b"old frame" and other.path(new).read_bytes() == png + b"new frame"


def test_import_refuses_and_cleans_up(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", "{}")
        archive.writestr("/etc/passwd", "x")
    with pytest.raises(BadRequest, match="points outside"):
        import_bundle(io.BytesIO(buffer.getvalue()), tmp_path / "staging", BlobStore(tmp_path / "b"), 1 << 20)
    assert list((tmp_path / "staging").iterdir()) == []


def test_trash_is_purged_after_30_days(tmp_path: Path) -> None:
    from datetime import timedelta

    from mediastudio.accounts.users import create_user
    from mediastudio.common import utcnow
    from mediastudio.projects import service
    from mediastudio.projects.access import project_folder
    from mediastudio.projects.tables import Project
    from mediastudio.settings import Settings
    from mediastudio.tables import open_database

    settings = Settings(data_dir=tmp_path, probe_gpu=False)
    db = open_database(settings.database_path)
    with db.transaction() as session:
        user = create_user(session, username="ana", password="violet tram sixteen")
        project = service.create_project(session, settings, user, name="Old", workspace_id=None)
        service.trash_project(session, settings, user, project.id)
        folder = project_folder(settings, project)
        assert folder.is_dir() and folder.parent.name == "trash"
        assert service.purge_trash(session, settings) == 0
        project.trashed_at = utcnow() - timedelta(days=31)
        session.add(project)
        session.flush()
        assert service.purge_trash(session, settings) == 1
        assert not folder.exists() and session.get(Project, project.id) is None
    db.close()
