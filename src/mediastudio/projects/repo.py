"""The project's git repository. The ONLY module that imports git (projects/unbundle.py alone also runs
it: a locked-down git that turns an imported bundle into a fresh repository, never a clone).

GitPython is not thread-safe and git allows one writer per repository: every operation on a
repository holds that repository's lock, but reads of objects named by their sha (`ProjectRepo.reader`), which no
write changes, through a repository object of their own.

Commits of everyday edits are deferred (`commit_later`): the edited file is already on disk (written atomically
and fsynced), the change is appended to the repository's pending journal (`.git/mediastudio-pending.jsonl`,
fsynced) and the request is answered; a timer commits every change of that window in one commit, which names
each change and credits its authors. Whatever reads the history, or commits, first commits what is pending, so
no reader ever sees a history without an answered change; a studio killed before the timer fired commits the
journal when it starts again (`recover`). The journal is shared by every process on the data folder (the server,
`mediastudio worker`, the CLI): each appends to it and commits it holding an exclusive `flock` on
`.git/mediastudio-pending.lock` (after the folder's thread lock, always in that order), so a process that commits
and removes the journal never drops a line another process appended meanwhile.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from weakref import WeakValueDictionary

from mediastudio.projects.files import SyncGroup, remove_stale_temp_files, sync_group
from mediastudio.projects.unbundle import unbundle

if TYPE_CHECKING:
    import git  # GitPython loads on first use

COMMITTER = ("Mediastudio", "studio@mediastudio.invalid")
KIND_TRAILER = "Mediastudio-Kind"  # what made a commit: projects/history.py names it
GITIGNORE = ".mediastudio/\n*.tmp\n"
PENDING = "mediastudio-pending.jsonl"  # under .git: never tracked, moves with the folder
PENDING_LOCK = "mediastudio-pending.lock"  # flock'd by every process that appends to or commits the journal
SUMMARY_MAX = 200  # characters of a coalesced commit's first line
LISTED_MAX = 200  # changes listed one by one in a coalesced commit's message
LOW_ROOM_BYTES = 1024 * 1024  # a git command that fails with less room than this left failed for want of room
_locks: WeakValueDictionary[str, threading.RLock] = WeakValueDictionary()
_locks_guard = threading.Lock()
_timers: dict[str, threading.Timer] = {}  # the folders with a commit scheduled
_timers_guard = threading.Lock()
log = logging.getLogger("mediastudio")


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


def _ident(name: str, fallback: str) -> str:
    """A person's name as git takes it in an ident: no NUL, no angle brackets or line breaks (git refuses a name
    of nothing but punctuation: the user's id stands in for it)."""
    cleaned = " ".join(name.replace("\0", "").replace("<", "").replace(">", "").split())
    return cleaned if cleaned.strip(".,:;\"' ") else fallback


def _author_id(email: str) -> str | None:
    local, _, domain = email.partition("@")
    return local if domain == "mediastudio.invalid" and local.startswith("u_") else None


@dataclass(frozen=True)
class PendingLine:
    """A line written to the pending journal and not yet fsynced: `sync_pending` makes it durable. Holds its
    journal's `SyncGroup` until then."""

    group: SyncGroup
    ticket: int


@dataclass(frozen=True)
class PendingChange:
    """An answered change not committed yet, as the pending journal holds it: what it said, who made it, its
    kind and the files it wrote or removed (relative to the folder)."""

    message: str
    author: Author
    kind: str | None
    paths: tuple[str, ...] = ()

    def line(self) -> bytes:
        return (json.dumps({"message": self.message, "name": self.author.name, "user_id": self.author.user_id,
                            "kind": self.kind, "paths": list(self.paths)}, ensure_ascii=False) + "\n").encode()

    @classmethod
    def parse(cls, line: str) -> PendingChange | None:
        """None for a line a crash cut short (the change it named is still on disk and is committed anyway)."""
        try:
            entry = json.loads(line)
            return cls(str(entry["message"]), Author(str(entry["name"]), str(entry["user_id"])),
                       str(entry["kind"]) if entry.get("kind") else None,
                       tuple(str(p) for p in entry.get("paths") or ()))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def runs_of_a_kind(changes: list[PendingChange]) -> list[list[PendingChange]]:
    """The changes cut where the kind changes: each run becomes one commit, so a burst of scene edits is one
    commit while an upload followed by a settings change stays two. A run that wrote a file an earlier run
    wrote joins it (the file holds both changes now: neither commit could hold one without the other)."""
    runs: list[list[PendingChange]] = []
    for change in changes:
        if runs and (runs[-1][0].kind == change.kind
                     or set(change.paths) & {p for c in runs[-1] for p in c.paths}):
            runs[-1].append(change)
        else:
            runs.append([change])
    return runs


def coalesce(changes: list[PendingChange]) -> tuple[str, Author, list[Author], str | None]:
    """One commit for several changes of one kind: (message, lead author, co-authors, kind). The lead is who
    made most of them (the first of equals), the others are co-authors; the first line names the changes (as
    many as fit, else the first and how many more) and the body lists each with its author."""
    if len(changes) == 1:
        return changes[0].message, changes[0].author, [], changes[0].kind
    counts = Counter(c.author for c in changes)
    order = list(dict.fromkeys(c.author for c in changes))
    lead = max(order, key=lambda a: counts[a])  # max keeps the first of equals
    kinds = {c.kind for c in changes}
    kind = kinds.pop() if len(kinds) == 1 else "edit"
    said = list(dict.fromkeys(c.message for c in changes))
    head = "; ".join(said)
    if len(head) > SUMMARY_MAX or "\n" in head:
        head = f"{said[0].splitlines()[0][:SUMMARY_MAX - 40]} and {len(changes) - 1} more changes"
    body = [f"- {c.message.splitlines()[0]} ({c.author.name})" for c in changes[:LISTED_MAX]]
    if len(changes) > LISTED_MAX:
        body.append(f"- and {len(changes) - LISTED_MAX} more")
    return head + "\n\n" + "\n".join(body), lead, [a for a in order if a != lead], kind


def _fire(path: str) -> None:
    with _timers_guard:
        _timers.pop(path, None)
    try:
        ProjectRepo(Path(path)).commit_pending()
    except Exception:  # the journal stays: the next read, write or start commits it
        log.exception("Committing the pending changes of %s failed", path)


def _schedule(path: Path, window_s: float) -> None:
    with _timers_guard:
        if str(path) in _timers:
            return
        timer = threading.Timer(window_s, _fire, args=(str(path),))
        timer.daemon = True
        _timers[str(path)] = timer
        timer.start()


def commit_every_pending() -> int:
    """Commit what every scheduled folder holds now (on a clean stop); returns how many folders committed."""
    with _timers_guard:
        scheduled = list(_timers.items())
        _timers.clear()
    for _, timer in scheduled:
        timer.cancel()
    return sum(1 for path, _ in scheduled if ProjectRepo(Path(path)).commit_pending() is not None)


def _out_of_room(path: Path) -> bool:
    """Whether the disk that holds `path` is (all but) full: a git command that failed there failed for that, even
    when its own message names only what it could not write."""
    try:
        stats = os.statvfs(path)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < LOW_ROOM_BYTES


def _commit_of(c: git.Commit) -> Commit:
    return Commit(sha=c.hexsha, message=_text(c.message).strip(), author_name=c.author.name or "",
                  author_id=_author_id(c.author.email or ""), time=c.authored_datetime.astimezone(UTC),
                  parents=tuple(p.hexsha for p in c.parents))


class CommitReader:
    """The files of commits, by sha, through one repository object: each tree listed once however many
    commits share it."""

    def __init__(self, repo: git.Repo) -> None:
        self.repo = repo
        self._trees: dict[bytes, dict[str, bytes]] = {}  # a tree's sha -> {path under it: its file's sha}

    def listing(self, sha: str) -> dict[str, bytes]:
        """Every file of commit `sha` (but .gitignore): its path -> the sha of its content."""
        tree = self.repo.commit(sha).tree
        return {path: blob for path, blob in self._listed(tree).items() if path != ".gitignore"}

    def _listed(self, tree: git.Tree) -> dict[str, bytes]:
        known = self._trees.get(tree.binsha)
        if known is None:
            known = {}
            for item in tree:
                if item.type == "blob":
                    known[item.name] = item.binsha
                elif item.type == "tree":
                    known.update((f"{item.name}/{path}", blob) for path, blob in self._listed(item).items())
            self._trees[tree.binsha] = known
        return known

    def read(self, blob: bytes) -> bytes:
        return bytes(self.repo.odb.stream(blob).read())


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
        trailers (projects/history.py reads them). Pending changes are committed first, as their own commit."""
        with self.lock:
            self.commit_pending()
            return self._commit(message, author, co_authors, kind=kind, extra=extra, allow_empty=allow_empty)

    def _commit(self, message: str, author: Author, co_authors: list[Author] | None = None, *,
                kind: str | None = None, extra: dict[str, str] | None = None,
                allow_empty: bool = False, paths: tuple[str, ...] = ()) -> str | None:
        """Stage `paths` (every change in the folder when none are named) and commit what is staged. git makes
        the commit (`git commit`, message verbatim, no hooks): to commit, the server reads and writes no git object."""
        fields = {**({KIND_TRAILER: kind} if kind else {}), **(extra or {})}
        trailers = "".join(f"\n{key}: {value}" for key, value in fields.items())
        trailers += "".join(f"\nCo-authored-by: {_ident(a.name, a.user_id)} <{a.email}>" for a in co_authors or [])
        with self.lock:
            if paths:
                # A named file that never reached git and is gone again (a scene added and deleted within
                # one window) is no change; git would refuse the whole add for it.
                tracked = set(self._run("ls-files", "--", *paths).splitlines())
                present = [p for p in paths if p in tracked or os.path.lexists(self.path / p)]
                if present:
                    self._run("add", "-A", "--", *present)
            else:
                self._run("add", "-A", "--", ".")
            # 0: the staged tree is HEAD's (nothing to commit); 1: it differs; 128: no HEAD yet (a first commit).
            if not allow_empty and self._run("diff-index", "--cached", "--quiet", "HEAD", "--",
                                             check=False, status=True) == "0":
                return None
            self._run("-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "--allow-empty",
                      "--cleanup=verbatim", "--file=-",
                      stdin=(message + ("\n" + trailers if trailers else "")).replace("\0", ""),
                      env={"GIT_AUTHOR_NAME": _ident(author.name, author.user_id), "GIT_AUTHOR_EMAIL": author.email,
                           "GIT_COMMITTER_NAME": COMMITTER[0], "GIT_COMMITTER_EMAIL": COMMITTER[1]})
            return self._run("rev-parse", "HEAD").strip()

    def _run(self, *args: str, check: bool = True, status: bool = False, stdin: str | None = None,
             env: dict[str, str] | None = None) -> str:
        """`git args…` in the folder: its output (its exit status as text with `status`)."""
        done = subprocess.run(["git", *args], cwd=self.path, input=stdin, capture_output=True, text=True,
                              encoding="utf-8", errors="replace", env={**os.environ, **(env or {})})
        if check and done.returncode != 0:
            failed = RuntimeError(f"git {args[0]} failed in {self.path}: {done.stderr.strip()[:500]}")
            if _out_of_room(self.path):  # git does not always say why ("unable to write new index file")
                raise failed from OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
            raise failed
        return str(done.returncode) if status else done.stdout

    def commit_later(self, message: str, author: Author, *, kind: str | None, paths: list[Path],
                     window_s: float, sync: bool = True) -> PendingLine | None:
        """Record a change whose files (`paths`, written atomically and fsynced, or removed) are on disk and
        commit it within `window_s` seconds, together with the other changes of that window. Durable when it
        returns: the journal line is fsynced, and a start after a crash commits it (`recover`). Only these
        files go into its commit: what a live scene wrote meanwhile is committed by its room, as its own.
        `sync=False`: the line is written, not fsynced, and returned; the caller passes it to `sync_pending`
        before it answers."""
        root = f"{self.path}{os.sep}"  # the paths' text cut, not `relative_to` (its parsing was 2 % of a write)
        relative = tuple(text[len(root):] if (text := os.fspath(p)).startswith(root)
                         else os.fspath(p.relative_to(self.path)) for p in paths)
        if not relative:
            raise ValueError("a deferred change names the files it changed")
        line = None
        with self.lock, self._journal_locked():
            fd = os.open(self.path / ".git" / PENDING, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, PendingChange(message, author, kind, relative).line())
                if sync:
                    os.fsync(fd)
                else:
                    group = self._journal_syncs()
                    line = PendingLine(group, group.ticket())
            finally:
                os.close(fd)
        _schedule(self.path, window_s)
        return line

    def sync_pending(self, line: PendingLine | None = None) -> None:
        """Make the pending journal durable up to `line` (from `commit_later(sync=False)`); needs no lock. The
        writers syncing it at once share their fsyncs (`files.SyncGroup`). A journal committed and removed
        meanwhile took the change into a commit, and the change's files are on disk."""
        if line is None:
            self._fsync_journal()
        else:
            line.group.sync(line.ticket)

    def _journal_syncs(self) -> SyncGroup:
        return sync_group(self.path / ".git" / PENDING, self._fsync_journal)

    def _fsync_journal(self) -> None:
        try:
            fd = os.open(self.path / ".git" / PENDING, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @contextmanager
    def _journal_locked(self) -> Iterator[None]:
        """The journal to oneself, across processes: an exclusive flock on `.git/mediastudio-pending.lock`.
        Taken inside `self.lock` (flocks of one process on separate opens exclude each other too)."""
        fd = os.open(self.path / ".git" / PENDING_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the flock

    def _read_pending(self) -> list[PendingChange]:
        try:
            text = (self.path / ".git" / PENDING).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return [c for c in map(PendingChange.parse, text.splitlines()) if c is not None]

    def pending(self) -> list[PendingChange]:
        """The answered changes not committed yet, oldest first."""
        with self.lock:
            if not (self.path / ".git" / PENDING).is_file():
                return []
            with self._journal_locked():
                return self._read_pending()

    def commit_pending(self) -> str | None:
        """Commit the pending changes now, one commit per run of changes of one kind (`runs_of_a_kind`); returns
        the last sha, None when none were pending (or their files were as committed already). The journal goes
        once its changes are in commits."""
        journal = self.path / ".git" / PENDING
        with self.lock:
            if not journal.is_file():  # nothing pending, or the folder moved (its journal went with it)
                return None
            with self._journal_locked():  # no other process appends before the journal goes
                sha = None
                for run in runs_of_a_kind(self._read_pending()):
                    message, lead, others, kind = coalesce(run)
                    paths = tuple(dict.fromkeys(p for c in run for p in c.paths)) if all(c.paths for c in run) else ()
                    sha = self._commit(message, lead, others, kind=kind, paths=paths) or sha
                journal.unlink(missing_ok=True)  # another process may have committed it while this one waited
                return sha

    def log(self, limit: int = 100, skip: int = 0) -> list[Commit]:
        with self.lock:
            self.commit_pending()
            repo = self._git()
            try:
                if not repo.head.is_valid():
                    return []
                return [_commit_of(c) for c in repo.iter_commits("HEAD", max_count=limit, skip=skip)]
            finally:
                repo.close()

    def commit_of(self, sha: str) -> Commit | None:
        """The commit of this full sha (from `resolve`), or None when the sha names no commit."""
        import git

        with self.reader() as reader:
            try:
                return _commit_of(reader.repo.commit(sha))
            except (git.BadName, ValueError, git.GitCommandError):
                return None

    def count_commits(self) -> int:
        with self.lock:
            self.commit_pending()
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
            self.commit_pending()
            repo = self._git()
            try:
                return str(repo.commit(ref).hexsha)
            except (git.BadName, ValueError, git.GitCommandError):
                return None
            finally:
                repo.close()

    def files_at(self, sha: str, prefix: str = "") -> dict[str, bytes]:
        """Every file of the project (under `prefix`) as it was at commit `sha`. A prefix that names a file is read
        at once (a live scene's commit reads its scene's file before: walking a tree of 2,000 assets took ~20 ms)."""
        import git

        with self.lock:
            self.commit_pending()
            repo = self._git()
            try:
                tree = repo.commit(sha).tree
                if prefix and not prefix.endswith("/") and prefix != ".gitignore":
                    try:
                        named = tree / prefix
                    except KeyError:
                        named = None
                    if isinstance(named, git.Blob):
                        return {prefix: named.data_stream.read()}
                return {path: item.data_stream.read() for item in tree.traverse() if isinstance(item, git.Blob)
                        and (path := os.fspath(item.path)).startswith(prefix) and path != ".gitignore"}
            finally:
                repo.close()

    @contextmanager
    def reader(self) -> Iterator[CommitReader]:
        """Read the files of many commits through one git process (a history page reads every commit it lists
        and its parent). Takes no lock: it reads objects named by their sha, which no write changes, through a
        repository object of its own."""
        repo = self._git()
        try:
            yield CommitReader(repo)
        finally:
            repo.close()

    def checkout_files(self, sha: str) -> None:
        """Make the working folder equal to commit `sha` (tracked files only), without moving HEAD."""
        with self.lock:
            self.commit_pending()
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
            self.commit_pending()
            repo = self._git()
            try:
                repo.git.bundle("create", str(target), "--all")
            finally:
                repo.close()

    # -- read-only, for a backup taken beside a running studio -------------------------------------------------
    # A backup (backups/take.py) reads the history as it is and commits nothing: it never competes with the
    # studio for git's index lock, and what is pending travels as the journal itself (`recover` commits it).

    def refs(self) -> list[str]:
        """`<sha> <ref>` of HEAD and every ref, sorted: what `git bundle create --all` would name (its
        `bundle_heads`), so an unchanged history is told without bundling it again. Empty without commits."""
        done = subprocess.run(["git", "show-ref", "--head"], cwd=self.path, capture_output=True, text=True,
                              encoding="utf-8", errors="replace", env={**os.environ, "LC_ALL": "C"})
        return sorted(line.strip() for line in done.stdout.splitlines() if line.strip())

    def bundle_as_is(self, target: Path) -> None:
        """`git bundle create --all` of the history as it is now (nothing pending is committed first)."""
        self._run("bundle", "create", "--quiet", os.fspath(target), "--all")

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
            self.commit_pending()
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
            self.commit_pending()
            repo = self._git()
            try:
                repo.git.fsck("--full", "--no-progress")
            finally:
                repo.close()

    def recover(self) -> bool:
        """After a crash: drop a stale index.lock and half-written temp files, commit the pending changes
        (with their messages and authors), then commit whatever complete files were left uncommitted, so no edit
        is lost. Returns True if it committed."""
        lock = self.path / ".git" / "index.lock"
        lock.unlink(missing_ok=True)
        remove_stale_temp_files(self.path)
        committed = self.commit_pending() is not None  # answered changes a crash kept from their commit
        with self.lock:
            repo = self._git()
            try:
                dirty = repo.is_dirty(untracked_files=True)
            finally:
                repo.close()
        if not dirty:
            return committed
        return self.commit_all("Recovered changes saved before an interrupted commit",
                               Author("Mediastudio", "u_system"), kind="recovered") is not None
