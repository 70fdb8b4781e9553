"""The whoosh index of committed memory, kept in step with git.

Layout, under `<git common dir>/mindmem/index/` (derived data, never committed):

    current/          the index of the branch recall answers from (see `target`)
    at/<sha>/         cached indexes of older commits for `--at`, least recently used evicted

Writers take turns through the store's one lock (`GitRepo.locked`, an flock the kernel
releases when a process dies, so a killed mm never leaves the index stuck). What a folder
holds and how it is written: `index_files`; reading it: `view`; what a block becomes: `document`.

`catch_up(memory)` is the one function that brings the index up to date (`catchup`, which
loads only what writing needs: a git hook runs it in a new process after every commit).
The tool calls it after its own commits; the git hooks call it after commits made with git
itself; recall calls it before answering.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from mindmem.errors import StateError
from mindmem.search import index_files as files
from mindmem.search.catchup import LOCK, IndexStatus, catch_up, rebuild, status, target
from mindmem.search.index_files import Progress
from mindmem.search.index_format import FORMAT_VERSION, STATE_FILE, index_root, read_state
from mindmem.search.terms import analyze, entity_terms, query_terms, utc
from mindmem.search.view import MAX_QUERY_CHARS, Doc, IndexView, view_of

if TYPE_CHECKING:
    from mindmem.store.memory import Memory

__all__ = [
    "FORMAT_VERSION",
    "MAX_QUERY_CHARS",
    "Doc",
    "IndexStatus",
    "IndexView",
    "Progress",
    "analyze",
    "at_folder",
    "catch_up",
    "entity_terms",
    "index_root",
    "open_view",
    "query_terms",
    "rebuild",
    "resolve_at",
    "status",
    "target",
    "utc",
]

AT_CACHE_SIZE = 8


# -- indexes of older commits (--at) -------------------------------------------------


def resolve_at(memory: Memory, at: str) -> str:
    """The commit `--at` names (a revision or a date): see `Memory.resolve_at`."""
    return memory.resolve_at(at)


def at_folder(memory: Memory, sha: str) -> Path:
    """An index of memory as of commit `sha`: built once (from the current index plus the diff when
    there is one), then reused; only the AT_CACHE_SIZE most recently used are kept."""
    root = index_root(memory)
    folder = root / "at" / sha
    if _usable(memory, folder, sha):
        os.utime(folder / STATE_FILE)
        return folder
    with memory.git.locked(LOCK):
        if not _usable(memory, folder, sha):
            current = root / "current"
            state = read_state(current)
            if files.rebuild_reason(memory, current, state) is None and state["commit"] is not None:
                files.sweep(folder)
                work = folder.with_name(f"{sha}.new-{uuid.uuid4().hex[:8]}")
                try:
                    shutil.copytree(current, work)
                    files.update(memory, work, state, sha, None)
                    files.swap(work, folder)
                except BaseException:
                    shutil.rmtree(work, ignore_errors=True)
                    raise
            else:
                files.build(memory, folder, sha, None)
        _evict(root / "at", keep=sha)
    return folder


def _usable(memory: Memory, folder: Path, sha: str) -> bool:
    state = read_state(folder)
    return files.rebuild_reason(memory, folder, state) is None and state["commit"] == sha


def _evict(folder: Path, keep: str) -> None:
    cached = sorted(
        (p for p in folder.iterdir() if "." not in p.name and (p / STATE_FILE).exists() and p.name != keep),
        key=lambda p: (p / STATE_FILE).stat().st_mtime,
        reverse=True,
    )
    for stale in cached[AT_CACHE_SIZE - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)


# -- reading: what recall uses ---------------------------------------------------------


def open_view(memory: Memory, at: str | None = None, progress: Progress | None = None) -> IndexView:
    """A view for answering queries: the current index after catching up, or (`at`) memory as of a commit."""
    if at is None:
        result = catch_up(memory, progress=progress)
        if result.target is None:
            raise StateError("nothing is committed yet: recall answers from committed memory; commit some blocks")
        return view_of(memory, index_root(memory) / "current", result.target)
    sha = resolve_at(memory, at)
    current = catch_up(memory, progress=progress)
    if sha == current.target:
        return view_of(memory, index_root(memory) / "current", sha)
    return view_of(memory, at_folder(memory, sha), sha)
