"""Reading files from folders without being led astray: regular files only, never through a link.

A FIFO named `x.md` would hang a plain `open`; a device would stream forever; a symlink
`notes.md -> /etc/passwd` or a linked folder would carry content from outside the repository
into memory (and from there into a commit or an agent's context). So every read here opens
with O_NOFOLLOW | O_NONBLOCK and checks what it opened; everything else becomes a
`BlockError` naming the path (a finding for `mm validate`), and is never read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from mindmem.errors import BadInput, BlockError

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_LINK = "is a symlink; mm never follows links in memory (put the file itself here)"
_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class Linked(BlockError):
    """A symlink where a file or folder was expected: reported by `mm validate`, skipped by readers
    (as git-object reads skip symlinks in commits)."""


class Vanished(Exception):
    """The file was listed but is gone (another process removed it): skip it."""


def read_regular(full: str | os.PathLike[str], rel: str, max_bytes: int) -> bytes:
    """The bytes of a regular file; BlockError naming `rel` for a link, a special file or one too big.

    Raises `Vanished` if it no longer exists.
    """
    try:
        fd = os.open(full, _OPEN_FLAGS)
    except FileNotFoundError:
        raise Vanished(rel) from None
    except OSError as exc:
        if os.path.islink(full):
            raise Linked(rel, _LINK) from None
        raise BlockError(rel, f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise BlockError(rel, f"is {_kind(info.st_mode)}, not a regular file; mm never opens it")
        if info.st_size > max_bytes:
            raise BlockError(rel, f"block is {info.st_size} bytes; the limit is {max_bytes}, so it was not read")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise BlockError(rel, f"block is over {max_bytes} bytes, the limit, so it was not read")
    return data


def tree(top: str, folder: str, max_bytes: int) -> Iterator[tuple[str, bytes | BlockError]]:
    """(repo-relative path, bytes or problem) of every file under `top/folder` (see `entries`)."""
    for rel, found in entries(top, folder):
        if isinstance(found, BlockError):
            yield rel, found
            continue
        try:
            yield rel, read_regular(found.path, rel, max_bytes)
        except Vanished:
            continue
        except BlockError as exc:
            yield rel, exc


def entries(top: str, folder: str) -> Iterator[tuple[str, os.DirEntry[str] | Linked]]:
    """(repo-relative path, directory entry) of every file under `top/folder`, folder by folder in name
    order (a folder's files before its subfolders), dot-folders skipped; nothing is read.

    Symlinked folders are reported (`Linked`) and not entered; `folder` itself must not be or pass
    through a link. A file entry may still be a link or a special file: `read_regular` says so.
    """
    problem = linked_component(top, folder)
    if problem is not None:
        yield folder, Linked(problem, f"is a symlink; mm never follows links out of the repository ({_HINT})")
        return
    yield from _folder(os.path.join(top, folder), folder)


def _folder(full: str, rel: str) -> Iterator[tuple[str, os.DirEntry[str] | Linked]]:
    # Plain scandir, not a Path per file: this walk lists every block, 100k files in a big repo.
    try:
        with os.scandir(full) as listing:
            found = sorted(listing, key=lambda entry: entry.name)
    except OSError:  # gone or unreadable, as os.walk skips it
        return
    folders, files = [], []
    for entry in found:
        if not entry.is_dir():  # follows a link, so a linked folder is seen as one
            files.append(entry)
        elif entry.name.startswith("."):
            continue
        elif entry.is_symlink():
            path = f"{rel}/{entry.name}"
            yield path, Linked(path, f"is a symlink to a folder; not followed ({_HINT})")
        else:
            folders.append(entry)
    for entry in files:
        yield f"{rel}/{entry.name}", entry
    for entry in folders:
        yield from _folder(entry.path, f"{rel}/{entry.name}")


# What a folder holds, by its stat data: (mtime ns, ctime ns, inode, subfolders, special files).
Folder = tuple[int, int, int, tuple[str, ...], tuple[str, ...]]


def special_files(
    top: str, folder: str, known: Mapping[str, Folder] | None = None, settled: int = 0
) -> tuple[list[str], dict[str, Folder]]:
    """Repo-relative paths of the FIFOs, sockets and devices under `top/folder` (dot-folders and
    linked folders not entered), told by the type the directory listing gives: no file is statted or
    opened. For readers that learn of regular files from elsewhere (git's index) but must still
    refuse a special file named like a block, as the walk does.

    `known`: what an earlier call found in each folder, by the folder's stat data. Creating, removing
    or renaming an entry changes its folder's modification time, and no file changes its type in
    place, so a folder whose stat data are unchanged is not listed again (only statted). Returned
    beside the paths: the folders last changed before `settled` (ns since the epoch), for the next
    call; one changed later could change again within the same clock tick unseen (git's "racy" rule).
    On a file system that does not update folder times (git's untracked cache makes the same
    assumption, opt-in for that reason), a new special file goes unseen here: it is still never
    opened, and `tree` (what `mm validate` walks) reports it.
    """
    found: list[str] = []
    remembered: dict[str, Folder] = {}
    known = known or {}
    stack = [folder]
    while stack:
        rel = stack.pop()
        full = os.path.join(top, rel)
        try:
            info = os.lstat(full)
        except OSError:
            continue
        entry = known.get(rel)
        if entry is None or entry[:3] != (info.st_mtime_ns, info.st_ctime_ns, info.st_ino):
            listed = _kinds(full, rel) if stat.S_ISDIR(info.st_mode) else None
            if listed is None:
                continue
            entry = (info.st_mtime_ns, info.st_ctime_ns, info.st_ino, *listed)
        if max(info.st_mtime_ns, info.st_ctime_ns) < settled:
            remembered[rel] = entry
        stack.extend(entry[3])
        found.extend(entry[4])
    return found, remembered


def _kinds(full: str, rel: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(subfolders to enter, special files) of one folder; None if it cannot be listed."""
    folders, special = [], []
    try:
        with os.scandir(full) as listing:
            for entry in listing:
                if entry.is_file(follow_symlinks=False):
                    continue  # most entries: one check
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith("."):
                        folders.append(f"{rel}/{entry.name}")
                elif not entry.is_symlink():
                    special.append(f"{rel}/{entry.name}")
    except OSError:
        return None
    return tuple(folders), tuple(special)


_HINT = "replace the link with a real folder or file"


def linked_component(top: str | os.PathLike[str], relpath: str) -> str | None:
    """The first existing component of `relpath` below `top` that is a symlink, as a relative path; else None."""
    current = Path(top)
    parts = [p for p in relpath.split("/") if p]
    for n, part in enumerate(parts):
        current = current / part
        if current.is_symlink():
            return "/".join(parts[: n + 1])
        if not current.exists():
            return None
    return None


def check_write_target(top: str | os.PathLike[str], relpath: str) -> None:
    """Refuse to write `relpath` when any part of it is a symlink (it could point outside the repository)."""
    linked = linked_component(top, relpath)
    if linked is not None:
        raise BadInput(f"{linked} is a symlink; mm does not write through links ({_HINT})")


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")
