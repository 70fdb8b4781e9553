"""`GitRepo`: the git facade, the only way mindmem reads or writes git.

Reads come straight from objects, never from a checkout. Writes build trees in memory and move
refs by compare-and-swap, so the work tree and the user's index are untouched unless a caller asks
for it. The operations live in `mindmem.store.git`, one module per git concept; this joins them.
"""

from __future__ import annotations

from pathlib import Path

import pygit2

from mindmem.errors import StateError
from mindmem.store.git.commits import Commits
from mindmem.store.git.refs import CURRENT_TIP
from mindmem.store.git.remotes import Remotes
from mindmem.store.git.values import GIT_LOCATION_VARS, CommitInfo, Person
from mindmem.store.git.worktree import WorkTree

__all__ = ["CURRENT_TIP", "GIT_LOCATION_VARS", "CommitInfo", "GitRepo", "Person"]


class GitRepo(Commits, WorkTree, Remotes):
    """A git repository, seen through the few operations mindmem needs."""

    @classmethod
    def discover(cls, start: Path) -> GitRepo:
        found = pygit2.discover_repository(str(start))
        if found is None:
            raise StateError(f"not a git repository (or any parent): {start}; run `mm init`")
        return cls(pygit2.Repository(found))

    @classmethod
    def open(cls, git_dir: Path) -> GitRepo:
        """The repository whose git dir is `git_dir` (as discovery found it)."""
        return cls(pygit2.Repository(str(git_dir)))

    @classmethod
    def init(cls, path: Path, initial_branch: str = "main") -> GitRepo:
        return cls(pygit2.init_repository(str(path), initial_head=initial_branch))
