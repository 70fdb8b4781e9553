"""What every part of the facade shares: the pygit2 repository, object lookup, and the plain values
(people, commits) the facade hands out instead of pygit2 objects."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pygit2

from mindmem.errors import NotFound, StateError

_Kind = TypeVar("_Kind", pygit2.Commit, pygit2.Tree, pygit2.Blob)
ZERO_OID = pygit2.Oid(hex="0" * 40)
# path -> (old blob id, new blob id), None where absent.
TreeDiff = dict[str, tuple[pygit2.Oid | None, pygit2.Oid | None]]
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git knows it without storing it
# Set inside git hooks; a git child started from one must find its repository from --git-dir, not from these.
GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")

# libgit2 keeps no tree over 4 KiB in its object cache, and a type folder of 20,000 blocks is a 1 MB tree
# at the end of a delta chain: each diff or path lookup rebuilt it (a one-block diff at 100k blocks:
# 90 ms, 16 ms with trees cached). The cache as a whole stays within libgit2's 256 MB default.
pygit2.settings.cache_object_limit(pygit2.enums.ObjectType.TREE, 64 * 1024 * 1024)
# libgit2 re-hashes every object it reads, git does not (only fsck and index-pack check names against
# contents): 8 ms for each such tree, 17 ms of CPU in one propose + approve at 100k blocks. What the
# gate reads is still the object approving merges, and a push of an object whose bytes do not match
# its name is refused by the receiving side's index-pack.
pygit2.option(pygit2.enums.Option.ENABLE_STRICT_HASH_VERIFICATION, False)


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    def signature(self, when: int | None = None, offset: int = 0) -> pygit2.Signature:
        return pygit2.Signature(self.name, self.email, int(when or time.time()), offset)


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    parents: tuple[str, ...]
    message: str
    author: Person
    time: int
    tree: str


class GitBase:
    """Holds the pygit2 repository; private, so callers see only named operations."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self._raw = repo
        # (old tree id, new tree id) -> what differs; see Objects._tree_diff.
        self._diffs: dict[tuple[pygit2.Oid | None, pygit2.Oid], TreeDiff] = {}

    @property
    def common_dir(self) -> Path:
        """The git dir shared by all worktrees: where derived data lives."""
        git_dir = Path(self._raw.path)
        # A linked worktree's git dir names the shared one in its `commondir` file (pygit2 has no accessor).
        pointer = git_dir / "commondir"
        if pointer.is_file():
            return (git_dir / pointer.read_text(encoding="utf-8").strip()).resolve()
        return git_dir

    def config_value(self, key: str) -> str | None:
        try:
            return self._raw.config[key]
        except KeyError:
            return None

    def _peel(self, rev: str | pygit2.Oid, kind: type[_Kind]) -> _Kind:
        """The commit, tree or blob an object id names; NotFound when there is none (or it is another kind)."""
        try:
            return self._raw[rev].peel(kind)
        except (KeyError, ValueError, TypeError, pygit2.GitError, pygit2.InvalidSpecError):
            raise NotFound(f"no git {kind.__name__.lower()} {rev} in this repository") from None

    def _run(
        self, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The real git binary on this repository, run to its end; `env` adds variables, `stdin` is its input."""
        process = self._start(*args, env=env, feed=stdin is not None)
        out, err = process.communicate(stdin)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def _start(self, *args: str, env: Mapping[str, str] | None = None, feed: bool = False) -> subprocess.Popen[str]:
        """The real git binary on this repository, started from the top of its work tree with its output
        piped (`communicate` collects it); `feed`: its input is piped too, else it has none."""
        clean = {k: v for k, v in os.environ.items() if k not in GIT_LOCATION_VARS}
        cmd = ["git", f"--git-dir={self._raw.path}", *args]
        # A relative remote URL is relative to the top of the work tree, as when the user runs git there.
        cwd = self._raw.workdir or self._raw.path
        try:
            return subprocess.Popen(
                cmd,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                text=True,
                env={**clean, **(env or {})},
            )
        except FileNotFoundError:
            raise StateError("the `git` program is not installed; mm needs it for this") from None


def ref_name(branch: str) -> str:
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"
