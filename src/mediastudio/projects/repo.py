"""The project's git repository. The ONLY module that imports git (projects/unbundle.py alone also runs
it: a locked-down git that turns an imported bundle into a fresh repository, never a clone).

GitPython is not thread-safe and git allows one writer per repository: every operation on a
repository holds that repository's lock.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from weakref import WeakValueDictionary

from mediastudio.projects.files import remove_stale_temp_files
from mediastudio.projects.unbundle import unbundle

if TYPE_CHECKING:
    import git  # GitPython loads on first use

COMMITTER = ("Mediastudio", "studio@mediastudio.invalid")
KIND_TRAILER = "Mediastudio-Kind"  # what made a commit: projects/history.py names it
GITIGNORE = ".mediastudio/\n*.tmp\n"
_locks: WeakValueDictionary[str, threading.RLock] = WeakValueDictionary()
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.RLock:
    with _locks_guard:
        lock = _locks.get(str(path))
        if lock is None:
            lock = threading.RLock()
            _locks[str(path)] = lock
        return lock


@dataclass(frozen=True)
class Author:
    """Who made a change: the user's display name and an address carrying their id."""

    name: str
    user_id: str

    @property
    def email(self) -> str:
        return f"{self.user_id}@mediastudio.invalid"


@dataclass(frozen=True)
class Commit:
    sha: str
    message: str
    author_name: str
    author_id: str | None
    time: datetime
    parents: tuple[str, ...]


def _text(message: str | bytes) -> str:
    """A commit message: GitPython leaves it as bytes when it does not decode in the commit's encoding."""
    return message if isinstance(message, str) else message.decode("utf-8", "replace")


def _author_id(email: str) -> str | None:
    local, _, domain = email.partition("@")
    return local if domain == "mediastudio.invalid" and local.startswith("u_") else None


class ProjectRepo:
    """A project's folder and its git history."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = _lock_for(path)

    def _git(self) -> git.Repo:
        import git

        return git.Repo(self.path)

    @classmethod
    def init(cls, path: Path) -> ProjectRepo:
        import git

        path.mkdir(parents=True, exist_ok=True)
        repo = git.Repo.init(path, initial_branch="main")
        with repo.config_writer() as config:
            config.set_value("user", "name", COMMITTER[0])
            config.set_value("user", "email", COMMITTER[1])
            config.set_value("core", "autocrlf", "false")
            config.set_value("gc", "auto", "0")  # no surprise repacks during a write burst
        (path / ".gitignore").write_text(GITIGNORE)
        repo.close()
        return cls(path)

    def commit_all(self, message: str, author: Author, co_authors: list[Author] | None = None, *,
                   kind: str | None = None, extra: dict[str, str] | None = None,
                   allow_empty: bool = False) -> str | None:
        """Stage every change in the folder and commit it; None when nothing changed (unless `allow_empty`:
        a labelled version is a commit even when the files are as they were). `kind` and `extra` go in
        trailers (projects/history.py reads them)."""
        import git

        fields = {**({KIND_TRAILER: kind} if kind else {}), **(extra or {})}
        trailers = "".join(f"\n{key}: {value}" for key, value in fields.items())
        trailers += "".join(f"\nCo-authored-by: {a.name} <{a.email}>" for a in co_authors or [])
        with self.lock:
            repo = self._git()
            try:
                repo.git.add("-A")
                if repo.head.is_valid() and not repo.index.diff("HEAD") and not allow_empty:
                    return None
                actor = git.Actor(author.name, author.email)
                committer = git.Actor(*COMMITTER)
                commit = repo.index.commit(message + ("\n" + trailers if trailers else ""),
                                           author=actor, committer=committer)
                return commit.hexsha
            finally:
                repo.close()

    def log(self, limit: int = 100, skip: int = 0) -> list[Commit]:
        with self.lock:
            repo = self._git()
            try:
                if not repo.head.is_valid():
                    return []
                return [Commit(sha=c.hexsha, message=_text(c.message).strip(), author_name=c.author.name or "",
                               author_id=_author_id(c.author.email or ""), time=c.authored_datetime.astimezone(UTC),
                               parents=tuple(p.hexsha for p in c.parents))
                        for c in repo.iter_commits("HEAD", max_count=limit, skip=skip)]
            finally:
                repo.close()

    def count_commits(self) -> int:
        with self.lock:
            repo = self._git()
            try:
                return int(repo.git.rev_list("--count", "HEAD")) if repo.head.is_valid() else 0
            finally:
                repo.close()

    def resolve(self, ref: str) -> str | None:
        """The full sha of a commit of this project, or None."""
        import git

        if not ref or not all(c in "0123456789abcdef" for c in ref.lower()) or len(ref) < 4:
            return None
        with self.lock:
            repo = self._git()
            try:
                return str(repo.commit(ref).hexsha)
            except (git.BadName, ValueError, git.GitCommandError):
                return None
            finally:
                repo.close()

    def files_at(self, sha: str, prefix: str = "") -> dict[str, bytes]:
        """Every file of the project (under `prefix`) as it was at commit `sha`."""
        import git

        with self.lock:
            repo = self._git()
            try:
                tree = repo.commit(sha).tree
                return {path: item.data_stream.read() for item in tree.traverse() if isinstance(item, git.Blob)
                        and (path := os.fspath(item.path)).startswith(prefix) and path != ".gitignore"}
            finally:
                repo.close()

    def checkout_files(self, sha: str) -> None:
        """Make the working folder equal to commit `sha` (tracked files only), without moving HEAD."""
        with self.lock:
            repo = self._git()
            try:
                repo.git.rm("-r", "-q", "--cached", "--ignore-unmatch", ".")
                for tracked in list(self.path.rglob("*")):
                    if tracked.is_file() and ".git" not in tracked.relative_to(self.path).parts \
                            and ".mediastudio" not in tracked.relative_to(self.path).parts:
                        tracked.unlink()
                repo.git.checkout(sha, "--", ".")
            finally:
                repo.close()

    def bundle(self, target: Path) -> None:
        with self.lock:
            repo = self._git()
            try:
                repo.git.bundle("create", str(target), "--all")
            finally:
                repo.close()

    @classmethod
    def from_bundle(cls, bundle: Path, path: Path) -> ProjectRepo:
        """A fresh repository at `path` holding the main branch of `bundle`, checked out; raises
        UnsafeHistory (with a message safe to show) for anything that is not a plain project history."""
        unbundle(bundle, path, {"user.name": COMMITTER[0], "user.email": COMMITTER[1], "gc.auto": "0",
                                "core.autocrlf": "false", "core.symlinks": "false"})
        return cls(path)

    def every_version_of(self, prefix: str) -> list[bytes]:
        """The content of every file under `prefix` in every commit (each distinct version once)."""
        with self.lock:
            repo = self._git()
            try:
                if not repo.head.is_valid():
                    return []
                objects = repo.git.rev_list("--all", "--objects").splitlines()
                wanted = {line.split(" ", 1)[0] for line in objects
                          if " " in line and line.split(" ", 1)[1].startswith(prefix)}
                return [repo.odb.stream(bytes.fromhex(oid)).read() for oid in sorted(wanted)
                        if repo.odb.info(bytes.fromhex(oid)).type == b"blob"]
            finally:
                repo.close()

    def fsck(self) -> None:
        with self.lock:
            repo = self._git()
            try:
                repo.git.fsck("--full", "--no-progress")
            finally:
                repo.close()

    def recover(self) -> bool:
        """After a crash: drop a stale index.lock and half-written temp files, then commit whatever
        complete files were left uncommitted, so no edit is lost. Returns True if it committed."""
        lock = self.path / ".git" / "index.lock"
        lock.unlink(missing_ok=True)
        remove_stale_temp_files(self.path)
        with self.lock:
            repo = self._git()
            try:
                dirty = repo.is_dirty(untracked_files=True)
            finally:
                repo.close()
        if not dirty:
            return False
        return self.commit_all("Recovered changes saved before an interrupted commit",
                               Author("Mediastudio", "u_system"), kind="recovered") is not None
