"""Which blob each block file of the work tree holds, reading only the files that changed.

First git is asked (`vouched_blobs`): a tracked file whose stat data still match git's index
holds the blob the index names, and git checks that for 100,000 files in C, a quarter of what
statting them from Python costs. For every other file (untracked, changed, flagged, or when git
cannot list the folder), like git's index, a small store remembers each file's stat data (size, modification and change
times in nanoseconds, inode) beside the blob id of its bytes; a file whose stat data is unchanged
holds the same bytes, so it is not read. A file changed within `RACY_NS` of a scan could change
again within the same clock tick without its times moving, so such entries are not remembered
(git's "racy clean" rule). The store lives in the git common dir, one file per work tree, written
to a temporary file and renamed into place; missing, damaged or foreign means every file is read.
Beside it, by the same rules, what each folder held by the folder's stat data, so looking for special
files git does not list costs a stat per folder, not a directory listing of every file.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

from mindmem.errors import BlockError
from mindmem.store import walk
from mindmem.store.files import read_store, write_store
from mindmem.store.snapshot import BLOCK_NAME, is_block_path

FORMAT = "mindmem-worktree/1"
FOLDERS_FORMAT = "mindmem-worktree-folders/1"
RACY_NS = 2_000_000_000


class Git(Protocol):
    def blob_sha(self, data: bytes) -> str: ...
    def read_blob(self, sha: str) -> bytes: ...
    def vouched_blobs(self, prefix: str, names: str) -> Callable[[], tuple[dict[str, str], list[str]] | None]: ...


def block_blobs(
    top: str, root: str, max_bytes: int, folder: Path | None, git: Git
) -> tuple[list[tuple[str, str]], Callable[[str], bytes]]:
    """(path, blob id) of every block file under `root` in the work tree `top`, sorted, and a
    reader of those blobs by id. A block file that is a FIFO, a device or too big is an error, as
    when reading the tree; symlinks and files that vanish while listed are left out.

    Files git vouches for (`vouched_blobs`: tracked, stat data matching the index) are neither
    statted nor read here; their blobs come from the object database. The rest go by the store."""
    name = hashlib.sha1(top.encode()).hexdigest()[:16]
    store = folder / f"worktree-{name}" if folder else None
    vouched = _vouched(top, root, git, folder / f"folders-{name}" if folder else None)
    clean = list(vouched[0].items()) if vouched else []
    files = _listed(top, root, vouched[1]) if vouched else walk.entries(top, root)
    known, seen = read_store(store, FORMAT), {}
    started = time.time_ns()
    entries: list[tuple[str, str]] = []
    read_now: dict[str, bytes] = {}
    for path, found in files:
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
            sha = git.blob_sha(data)
            read_now[sha] = data
        entries.append((path, sha))
        if max(info.st_mtime_ns, info.st_ctime_ns) < started - RACY_NS:
            seen[path] = (*key, sha)
    if store is not None and seen != known:
        write_store(store, FORMAT, seen)
    entries = sorted([*entries, *clean])
    # Made on the first read of a blob not read now (100,000 ids: most runs read none).
    vouched_paths = functools.cache(lambda: {sha: path for path, sha in clean})

    def read(sha: str) -> bytes:
        if sha in read_now:
            return read_now[sha]
        if (vouched_path := vouched_paths().get(sha)) is not None:
            # git found the file holding these bytes. Reading it is a tenth of a round trip to git (12 of
            # the 93 s of a cold listing at 100k); git has them if the file changed since.
            try:
                data = walk.read_regular(os.path.join(top, vouched_path), vouched_path, max_bytes)
            except (BlockError, walk.Vanished):
                return git.read_blob(sha)
            return data if git.blob_sha(data) == sha else git.read_blob(sha)
        path = next(p for p, blob in entries if blob == sha)  # rare: the store lacks a block it had
        data = walk.read_regular(os.path.join(top, path), path, max_bytes)
        if git.blob_sha(data) != sha:
            raise BlockError(path, "changed while it was being read; run the command again")
        return data

    return entries, read


def _vouched(top: str, root: str, git: Git, store: Path | None) -> tuple[dict[str, str], list[str]] | None:
    """`git.vouched_blobs`, plus the special files git never lists (a FIFO named like a block is an
    error, as for the walk), looked for while git works; what each folder holds is remembered in
    `store` (`walk.special_files`). None: walk instead."""
    if walk.linked_component(top, root):  # reported by the walk, and nothing under it read
        return None
    answer = git.vouched_blobs(root, BLOCK_NAME)
    known = read_store(store, FOLDERS_FORMAT)
    special, remembered = walk.special_files(top, root, known, time.time_ns() - RACY_NS)
    if store is not None and remembered != known:
        write_store(store, FOLDERS_FORMAT, remembered)
    vouched = answer()
    return (vouched[0], [*vouched[1], *special]) if vouched else None


def _below(root: str, path: str) -> bool:
    """Whether the walk would reach `path`: dot-folders under `root` are never entered (and a block
    file's name never starts with a dot)."""
    return path.find("/.", len(root)) < 0


class _File(NamedTuple):
    """A listed file, standing in for the walk's `os.DirEntry`."""

    path: str

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        return os.stat(self.path, follow_symlinks=follow_symlinks)


def _listed(top: str, root: str, paths: list[str]) -> Iterator[tuple[str, _File]]:
    for path in paths:
        if _below(root, path):
            yield path, _File(os.path.join(top, path))
