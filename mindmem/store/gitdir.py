"""Derived data under the git common dir (`.git/mindmem/`): never committed, rebuilt when missing or damaged.

One place names each path, so every worktree of a repository shares them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mindmem.store.git.binary import GitBinary


def root(git: GitBinary) -> Path:
    return git.common_dir / "mindmem"


def index(git: GitBinary) -> Path:
    """The search index (whoosh segments, vectors, the commit it reflects)."""
    return root(git) / "index"


def blocks_cache(git: GitBinary) -> Path:
    """Parsed blocks keyed by blob id, and the blob id of each work-tree file by its stat data."""
    return root(git) / "blocks"


def checks_cache(git: GitBinary) -> Path:
    """Parsed-block digests keyed by blob id, shared by the checks."""
    return root(git) / "checks"


def verified(git: GitBinary) -> Path:
    """The last governed tip `mm verify` found good, to notice a rewind."""
    return root(git) / "verified.json"


def lock(git: GitBinary, name: str) -> Path:
    return root(git) / f"{name}.lock"
