"""Keeping the current index in step with the governed branch: its status, and the one catch-up.

Apart from `index` (which adds `--at` indexes and reading) so that a catch-up in a new process, the
git post-commit hook after every commit or `mm approve`, loads what writing a few documents needs
(whoosh's writer, the blocks, the git binary's reads) and not what answering queries needs (numpy,
the ranking, a full build's writer). tests/test_index_catchup.py holds it to that.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from mindmem.search import index_files as files
from mindmem.search.index_files import Progress
from mindmem.search.index_format import FORMAT_VERSION, index_root, read_state
from mindmem.search.ranking import LEGS

if TYPE_CHECKING:
    from mindmem.store.memory import Memory

# The name of the index's lock among the store's locks.
LOCK = "search-index"


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
    state = read_state(folder)
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
        state = read_state(folder)
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
