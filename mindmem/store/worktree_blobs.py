"""Which blob each block file of the work tree holds, reading only the files that changed.

Like git's index, a small store remembers each file's stat data (size, modification and change
times in nanoseconds, inode) beside the blob id of its bytes; a file whose stat data is unchanged
holds the same bytes, so it is not read. A file changed within `RACY_NS` of a scan could change
again within the same clock tick without its times moving, so such entries are not remembered
(git's "racy clean" rule). The store lives in the git common dir, one file per work tree, written
to a temporary file and renamed into place; missing, damaged or foreign means every file is read.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from mindmem.errors import BlockError
from mindmem.store import walk
from mindmem.store.files import read_store, write_store
from mindmem.store.snapshot import is_block_path

FORMAT = "mindmem-worktree/1"
RACY_NS = 2_000_000_000


def block_blobs(
    top: str, root: str, max_bytes: int, folder: Path | None, blob_id: Callable[[bytes], str]
) -> tuple[list[tuple[str, str]], Callable[[str], bytes]]:
    """(path, blob id) of every block file under `root` in the work tree `top`, in walk order, and a
    reader of those blobs by id; `blob_id` hashes bytes as git does. A block file that is a FIFO, a
    device or too big is an error, as when reading the tree; symlinks and files that vanish while
    listed are left out."""
    store = folder / f"worktree-{hashlib.sha1(top.encode()).hexdigest()[:16]}" if folder else None
    known, seen = read_store(store, FORMAT), {}
    started = time.time_ns()
    entries: list[tuple[str, str]] = []
    read_now: dict[str, bytes] = {}
    for path, found in walk.entries(top, root):
        if isinstance(found, BlockError) or not is_block_path(path):
            continue  # a linked folder is skipped, as when reading the tree
        try:
            info = found.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        key = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        cached = known.get(path)
        if cached is not None and cached[:4] == key and stat.S_ISREG(info.st_mode) and info.st_size <= max_bytes:
            sha = cached[4]
        else:
            try:
                data = walk.read_regular(found.path, path, max_bytes)
            except (walk.Vanished, walk.Linked):
                continue
            sha = blob_id(data)
            read_now[sha] = data
        entries.append((path, sha))
        if max(info.st_mtime_ns, info.st_ctime_ns) < started - RACY_NS:
            seen[path] = (*key, sha)
    if store is not None and seen != known:
        write_store(store, FORMAT, seen)

    def read(sha: str) -> bytes:
        if sha in read_now:
            return read_now[sha]
        path = next(p for p, blob in entries if blob == sha)  # rare: the store lacks a block it had
        data = walk.read_regular(os.path.join(top, path), path, max_bytes)
        if blob_id(data) != sha:
            raise BlockError(path, "changed while it was being read; run the command again")
        return data

    return entries, read
