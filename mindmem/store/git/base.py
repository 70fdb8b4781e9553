"""What every part of the facade shares: the pygit2 repository and object lookup (the git binary and the
plain values it hands out are in `binary.py` and `values.py`, which need no pygit2)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TypeVar

import pygit2

from mindmem.errors import NotFound
from mindmem.store.git.binary import GitBinary
from mindmem.store.git.values import ZERO_SHA, Person

_Kind = TypeVar("_Kind", pygit2.Commit, pygit2.Tree, pygit2.Blob)
ZERO_OID = pygit2.Oid(hex=ZERO_SHA)
# path -> (old blob id, new blob id), None where absent.
TreeDiff = dict[str, tuple[pygit2.Oid | None, pygit2.Oid | None]]

# libgit2 keeps no tree over 4 KiB in its object cache, and a type folder of 20,000 blocks is a 1 MB tree
# at the end of a delta chain: each diff or path lookup rebuilt it (a one-block diff at 100k blocks:
# 90 ms, 16 ms with trees cached). The cache as a whole stays within libgit2's 256 MB default.
pygit2.settings.cache_object_limit(pygit2.enums.ObjectType.TREE, 64 * 1024 * 1024)
# libgit2 re-hashes every object it reads, git does not (only fsck and index-pack check names against
# contents): 8 ms for each such tree, 17 ms of CPU in one propose + approve at 100k blocks. What the
# gate reads is still the object approving merges, and a push of an object whose bytes do not match
# its name is refused by the receiving side's index-pack.
pygit2.option(pygit2.enums.Option.ENABLE_STRICT_HASH_VERIFICATION, False)


def signature(person: Person, when: int | None = None, offset: int = 0) -> pygit2.Signature:
    return pygit2.Signature(person.name, person.email, int(when or time.time()), offset)


class GitBase(GitBinary):
    """Holds the pygit2 repository; private, so callers see only named operations."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self._raw = repo
        # (old tree id, new tree id) -> what differs; see Objects._tree_diff.
        self._diffs: dict[tuple[pygit2.Oid | None, pygit2.Oid], TreeDiff] = {}

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

    @property
    def _git_dir(self) -> Path:
        return Path(self._raw.path)

    @property
    def _cwd(self) -> Path:
        # A relative remote URL is relative to the top of the work tree, as when the user runs git there.
        return Path(self._raw.workdir or self._raw.path)
