"""Turn an imported git bundle into a fresh project repository, trusting nothing in it.

No clone (a clone of a path follows `gitdir:` files and local repositories): the file must start like a
bundle, a new repository is `git init`ed, the bundle is verified inside it and only its main branch is
fetched, with git run in a clean environment (no user or system config, no hooks, no transport but the
bundle file itself, objects fsck'd on the way in). Before anything is checked out, every commit's tree
must have the layout of a project — project.json, .gitignore, scenes/<id>.json, assets/<id>.json, comments/<id>.json —
so no symbolic link, submodule or stray file can ever reach the working folder.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger("mediastudio")

BUNDLE_HEADER = b"# v2 git bundle\n"  # what `git bundle create` writes for a project (v3 = sha256 or filters)
GIT_TIMEOUT_S = 3600  # a 20 GiB history takes a while to index; a stuck git does not hold the import forever
LOCKDOWN = ["-c", "protocol.allow=never", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
            "-c", "core.symlinks=false", "-c", "core.protectNTFS=true", "-c", "core.protectHFS=true",
            "-c", "transfer.fsckObjects=true", "-c", "fetch.recurseSubmodules=false", "-c", "submodule.recurse=false",
            "-c", "gc.auto=0", "-c", "maintenance.auto=false", "-c", "core.autocrlf=false"]
ROOT_FILES = {b"project.json", b".gitignore"}
FOLDERS = {b"scenes", b"assets", b"comments"}
REGULAR = {b"100644", b"100755"}
TREE = b"40000"
ENTRY_NAME = re.compile(rb"^(?:[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.json|\.keep)$")


class UnsafeHistory(Exception):
    """The bundle is not a plain project history; the message is safe to show (no paths, no git output)."""


def _env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
            "GIT_ATTR_NOSYSTEM": "1"}


def _git(cwd: Path, *args: str) -> bytes:
    git = shutil.which("git") or "git"
    try:
        done = subprocess.run([git, *LOCKDOWN, *args], cwd=cwd, env=_env(), capture_output=True,
                              timeout=GIT_TIMEOUT_S, check=True, stdin=subprocess.DEVNULL)
    except subprocess.CalledProcessError as exc:
        log.info("git %s refused an imported bundle: %s", args[0], exc.stderr.decode(errors="replace")[:500])
        raise UnsafeHistory("its history is damaged (git cannot read it).") from None
    except subprocess.TimeoutExpired:
        raise UnsafeHistory("its history is damaged (reading it took too long).") from None
    return done.stdout


def _is_bundle(bundle: Path) -> bool:
    if bundle.is_symlink() or not bundle.is_file():
        return False
    with bundle.open("rb") as handle:
        return handle.read(len(BUNDLE_HEADER)) == BUNDLE_HEADER


class _Trees:
    """Reads raw tree objects through one `git cat-file --batch`."""

    def __init__(self, repo: Path) -> None:
        git = shutil.which("git") or "git"
        self.process = subprocess.Popen([git, *LOCKDOWN, "cat-file", "--batch"], cwd=repo, env=_env(),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def entries(self, sha: str) -> list[tuple[bytes, bytes, str]]:
        """(mode, name, sha) of each entry of tree `sha`."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(sha.encode() + b"\n")
        self.process.stdin.flush()
        header = self.process.stdout.readline().split()
        if len(header) != 3 or header[1] != b"tree":
            raise UnsafeHistory("its history is damaged (a folder of it is missing).")
        data = self.process.stdout.read(int(header[2]) + 1)[:-1]
        found, at = [], 0
        while at < len(data):
            space, nul = data.index(b" ", at), data.index(b"\0", at)
            found.append((data[at:space], data[space + 1:nul], data[nul + 1:nul + 21].hex()))
            at = nul + 21
        return found

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _shown(name: bytes) -> str:
    return "".join(c if c.isprintable() else "?" for c in name.decode(errors="replace"))[:60]


def _refuse_links(mode: bytes, name: bytes) -> None:
    if mode == b"120000":
        raise UnsafeHistory(f"its history holds a symbolic link ('{_shown(name)}'), which a project never has.")
    if mode == b"160000":
        raise UnsafeHistory(f"its history holds a submodule ('{_shown(name)}'), which a project never has.")


def _check_folder(trees: _Trees, sha: str, folder: bytes) -> None:
    for mode, name, _ in trees.entries(sha):
        _refuse_links(mode, name)
        if mode not in REGULAR or not ENTRY_NAME.match(name):
            raise UnsafeHistory(f"its history holds '{_shown(folder + b'/' + name)}', which a project never has.")


def check_layout(repo: Path, ref: str = "refs/heads/main") -> None:
    """Every commit of `ref` has a project's layout; raises UnsafeHistory at the first thing that does not."""
    roots = set(_git(repo, "log", "--format=%T", ref).decode().split())
    checked: set[str] = set()
    trees = _Trees(repo)
    try:
        for root in sorted(roots):
            for mode, name, sha in trees.entries(root):
                _refuse_links(mode, name)
                if name in ROOT_FILES and mode in REGULAR:
                    continue
                if name not in FOLDERS or mode != TREE:
                    raise UnsafeHistory(f"its history holds '{_shown(name)}', which a project never has.")
                if sha not in checked:
                    _check_folder(trees, sha, name)
                    checked.add(sha)
    except (ValueError, OSError):
        raise UnsafeHistory("its history is damaged (a folder of it cannot be read).") from None
    finally:
        trees.close()


def unbundle(bundle: Path, path: Path, config: dict[str, str]) -> None:
    """Make `path` a new repository holding the main branch of `bundle`, checked out (see the module)."""
    if not _is_bundle(bundle):
        raise UnsafeHistory("its history is damaged (repo.bundle is not a git bundle).")
    path.mkdir(parents=True)
    _git(path, "init", "-q", "--template=", "-b", "main", ".")
    _git(path, "bundle", "verify", "-q", str(bundle))
    heads = _git(path, "bundle", "list-heads", str(bundle), "refs/heads/main").split()
    if len(heads) != 2 or heads[1] != b"refs/heads/main":
        raise UnsafeHistory("its history has no main branch.")
    # The bundle file itself is the one transport allowed (it was checked above to be a bundle, not a path
    # to a repository or a `gitdir:` file).
    _git(path, "-c", "protocol.file.allow=always", "fetch", "-q", "--no-tags", "--no-write-fetch-head",
         "--update-head-ok", "--no-recurse-submodules", str(bundle), "refs/heads/main:refs/heads/main")
    check_layout(path)
    for key, value in config.items():
        _git(path, "config", key, value)
    _git(path, "reset", "-q", "--hard", "refs/heads/main")
