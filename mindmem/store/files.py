"""File writes that never leave a half-written file behind, and the derived stores in the git dir."""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_store(path: Path | None, fmt: str) -> dict[str, Any]:
    """The entries of a derived store (`write_store`); empty if missing, damaged or of another format."""
    if path is None:
        return {}
    try:
        with collector_paused():
            found, entries = marshal.loads(path.read_bytes())
    except Exception:  # missing, torn or foreign: only a cold store
        return {}
    return entries if found == fmt and isinstance(entries, dict) else {}


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for one bulk step. Making a hundred thousand objects, none
    of them garbage, sets it off again and again, and each time it walks everything alive: at 100,000
    blocks, sorting a snapshot and turning it into JSON took twice as long with it on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def write_store(path: Path, fmt: str, entries: dict[str, Any]) -> None:
    """Save derived data (plain values, marshal format) tagged with `fmt`; best effort, since a
    read-only git dir only means the store stays cold. Readers see the old or the new file."""
    with contextlib.suppress(OSError):
        atomic_write(path, marshal.dumps((fmt, entries)))
