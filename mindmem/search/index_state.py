"""Where the search index lives, and keeping an existing one in step, without importing whoosh.

Loading whoosh costs a hundred ms or more; commits and git hooks only need to know whether there is
an index to update, so they ask here first, and then load only what a catch-up writes with
(`catchup`), not what recall reads with.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mindmem.store import gitdir

if TYPE_CHECKING:
    from mindmem.store.memory import Memory


def index_root(memory: Memory) -> Path:
    """Where the index folders live (the git common dir: every worktree shares them)."""
    return gitdir.index(memory.git)


def keep_in_step(memory: Memory) -> bool:
    """Catch an existing index up with the governed branch; a repo without one gets it on its first recall.

    pygit2 commits fire no git hooks, so the tool calls this after its own commits, and the
    post-* hooks call it after git's. Returns whether there was an index to update.
    """
    if not (index_root(memory) / "current").exists():
        return False
    from mindmem.search.catchup import catch_up

    catch_up(memory)
    return True
