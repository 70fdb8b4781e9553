"""The whoosh index of committed memory, kept in step with git.

Layout, under `<git common dir>/mindmem/index/` (derived data, never committed):

    current/          the index of the branch recall answers from (see `target`)
    at/<sha>/         cached indexes of older commits for `--at`, least recently used evicted

Writers take turns through the store's one lock (`GitRepo.locked`, an flock the kernel
releases when a process dies, so a killed mm never leaves the index stuck). What a folder
holds and how it is written: `index_files`; reading it: `view`; what a block becomes: `document`.

`catch_up(memory)` is the one function that brings the index up to date: it diffs
the indexed commit against the target commit over the memory root and re-indexes
only the block files that changed. The tool calls it after its own commits; the git
hooks call it after commits made with git itself; recall calls it before answering.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindmem.errors import StateError
from mindmem.search import index_files as files
from mindmem.search.document import FORMAT_VERSION
from mindmem.search.index_files import STATE_FILE, Progress
from mindmem.search.ranking import LEGS
from mindmem.search.terms import analyze, entity_terms, query_terms, utc
from mindmem.search.view import MAX_QUERY_CHARS, Doc, IndexView, view_of
from mindmem.store import gitdir

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
# The name of the index's lock among the store's locks.
LOCK = "search-index"


def index_root(memory: Memory) -> Path:
    """Where the index folders live (the git common dir: every worktree shares them)."""
    return gitdir.index(memory.git)


# -- status ----------------------------------------------------------------------


@dataclass(frozen=True)
class IndexStatus:
    """What an index reflects and what the last catch-up did.

    `ref`/`target`: the branch recall answers from and its commit; `indexed`: the commit the
    index reflects; `fresh` when they agree. `reindexed`/`removed` count the documents the last
    catch-up wrote and deleted; `reason` says why a rebuild happened (or, for `status`, is due).
    """

    path: str
    ref: str | None
    target: str | None
    head: str | None
    indexed: str | None
    fresh: bool
    documents: int
    format: int = FORMAT_VERSION
    rebuilt: bool = False
    reason: str | None = None
    reindexed: int = 0
    removed: int = 0
    skipped: tuple[str, ...] = ()
    legs: tuple[str, ...] = LEGS  # how recall scores: the legs it fuses

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "skipped": list(self.skipped), "legs": list(self.legs)}


def target(memory: Memory) -> tuple[str | None, str | None]:
    """(ref, commit) recall answers from: the governed branch, or HEAD while that branch does not exist.

    Recall answers from committed, governed memory so that what an agent is told does not depend on
    which branch happens to be checked out, and unapproved proposals never leak into answers.
    """
    return memory.governed_head()


def status(memory: Memory) -> IndexStatus:
    """The state of the current index, without changing anything."""
    folder = index_root(memory) / "current"
    ref, sha = target(memory)
    state = files.read_state(folder)
    reason = files.rebuild_reason(memory, folder, state)
    indexed = None if reason else state["commit"]
    return IndexStatus(
        path=str(folder),
        ref=ref,
        target=sha,
        head=memory.git.head_commit(),
        indexed=indexed,
        fresh=reason is None and indexed == sha,
        documents=0 if reason else state["documents"],
        reason=reason,
        skipped=() if reason else tuple(state["skipped"]),
    )


def catch_up(memory: Memory, *, rebuild: bool = False, progress: Progress | None = None) -> IndexStatus:
    """Bring the current index to the target commit; re-index only the block files that changed.

    A full rebuild happens only when asked, or when the index is missing, from another format
    version or memory root, unreadable, or reflects a commit this repository no longer has.
    Safe to call from any number of processes at once: writers take turns through the lock.
    """
    folder = index_root(memory) / "current"
    if not rebuild:
        # The common case: a small file read and a look at the whoosh table of contents, no lock.
        now = status(memory)
        if now.fresh:
            return now
    with memory.git.locked(LOCK):
        _, sha = target(memory)
        state = files.read_state(folder)
        reason = "asked for a rebuild" if rebuild else files.rebuild_reason(memory, folder, state)
        if reason or (sha is None and state["commit"] is not None):
            counts = files.build(memory, folder, sha, progress)
        elif state["commit"] == sha:
            counts = (0, 0)  # another process caught up while we waited for the lock
        else:
            counts = files.update(memory, folder, state, sha, progress)
    return _with(status(memory), rebuilt=bool(reason), reason=reason, reindexed=counts[0], removed=counts[1])


def rebuild(memory: Memory, progress: Progress | None = None) -> IndexStatus:
    """Rebuild the current index from scratch (`mm index rebuild`)."""
    return catch_up(memory, rebuild=True, progress=progress)


def _with(result: IndexStatus, **changes: Any) -> IndexStatus:
    return IndexStatus(**{**asdict(result), **changes})


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
            state = files.read_state(current)
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
    state = files.read_state(folder)
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
