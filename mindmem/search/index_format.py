"""Where the search index lives, and an index folder's format version and state file (`index_files` writes
it), read without whoosh: a git hook reads it to see whether there is anything to write
(`index_state.keep_in_step`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindmem.store import gitdir

if TYPE_CHECKING:
    from mindmem.store.memory import Memory

# Bump when the schema (`document.schema`) or what goes into a field changes: older indexes are then rebuilt.
FORMAT_VERSION = 9
STATE_FILE = "state.json"


def index_root(memory: Memory) -> Path:
    """Where the index folders live (the git common dir: every worktree shares them)."""
    return gitdir.index(memory.git)


def read_state(folder: Path) -> dict[str, Any] | None:
    """An index folder's state file (`index_files`), or None when it is missing or unreadable."""
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    keys = {"format": int, "commit": (str, type(None)), "root": str, "documents": int, "skipped": list}
    if not isinstance(state, dict) or not all(isinstance(state.get(k), t) for k, t in keys.items()):
        return None
    return state
