"""Keeping an existing search index in step with the governed branch, without importing whoosh.

Loading whoosh costs a hundred ms or more; commits and git hooks only need to know whether there is
an index to update, so they ask here first, and then load only what a catch-up writes with
(`catchup`), not what recall reads with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mindmem.search.index_format import FORMAT_VERSION, index_root, read_state

if TYPE_CHECKING:
    from mindmem.store.memory import Memory


def keep_in_step(memory: Memory) -> bool:
    """Catch an existing index up with the governed branch; a repo without one gets it on its first recall.

    pygit2 commits fire no git hooks, so the tool calls this after its own commits, and the
    post-* hooks call it after git's. Returns whether there was an index to update.
    """
    folder = index_root(memory) / "current"
    if not folder.exists():
        return False
    state = read_state(folder)
    now = (FORMAT_VERSION, memory.root, memory.governed_head()[1])
    if state is not None and (state["format"], state["root"], state["commit"]) == now:
        # Nothing to write: a commit to another branch, a checkout, a merge that left the governed branch
        # where it was. Whether the files are whole is for the next catch-up that writes, or recall, to see.
        return True
    from mindmem.search.catchup import catch_up

    catch_up(memory)
    return True
