"""Parsed blocks keyed by git blob id, so reading a snapshot parses only content it has not seen.

Content-addressed, so never stale: a blob id names exactly one text, and parsing depends on the
text alone (the path only names the file in errors). Derived data in the git common dir, never
committed, shared by every worktree and process of a repository:

- `base`: most entries, rewritten only when `recent` has grown past `RECENT_LIMIT`;
- `recent`: entries added since, small, rewritten whenever a run parsed something new,
  so a run that changed k blocks writes O(k) bytes, not the whole store.

Entries are plain tuples of a block's fields in marshal format: loading them and setting the
fields of each `Block` directly is several times cheaper than unpickling frozen dataclasses.
Each file is written to a temporary file and renamed into place, so a reader sees an old or a
new file, never a torn one; of two writers at once the last one wins and the entries only the
other had are parsed again next time. A file that is missing, damaged or written by a mindmem
whose block format differs (`store_format`) is treated as empty and rewritten.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
from collections.abc import Callable, Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

from mindmem.errors import BlockError
from mindmem.store import format as format_package
from mindmem.store.blocks import Block, Constraint, parse
from mindmem.store.files import collector_paused, read_store, write_store

_FIELDS = tuple(f.name for f in fields(Block))
_CONSTRAINT = _FIELDS.index("constraint")
_CONSTRAINT_FIELDS = tuple(f.name for f in fields(Constraint))
# Entries kept beyond the ones in use, so switching between work tree, index and branches stays warm.
SPARE = 20_000
# Past this many blocks to read, loading the whole store beats parsing them one by one.
MANY = 300
# Past this many entries in `recent`, they are folded into `base`.
RECENT_LIMIT = 2_000
Read = Callable[[str], bytes]


class ParsedBlocks:
    """The store of parsed blocks under `folder` (None: in memory only, nothing is written)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._base: dict[str, tuple[Any, ...]] | None = None  # loaded on first need
        self._recent: dict[str, tuple[Any, ...]] | None = None
        self._blocks: dict[str, Block] = {}  # rebuilt or parsed in this run
        self._new: dict[str, tuple[Any, ...]] = {}  # parsed in this run, to be written
        self.used: set[str] = set()
        self.parses = 0  # blobs parsed in this run (what the store saved the rest of)

    def block(self, sha: str, path: str, read: Read, *, load: bool = True) -> Block:
        """The block in blob `sha`; BlockError (naming `path`) if it does not parse.

        `load`: look in the stored entries too (loading them is worth it when the caller reads many
        blocks; a caller reading a handful parses them rather than load the whole store)."""
        self.used.add(sha)
        found = self._blocks.get(sha)
        if found is not None:
            return found
        if load or self._recent is not None or self._base is not None:
            entry = self._stored(sha, load=load)
            if entry is not None:
                found = self._blocks[sha] = _rebuild(entry)
                return found
        found = self._blocks[sha] = parse(read(sha), path)
        self.parses += 1
        entry = _entry(found)
        if entry is not None:
            self._new[sha] = entry
        return found

    def parsed(self, entries: Iterable[tuple[str, str]], read: Read) -> list[tuple[str, Block | BlockError]]:
        """(path, block or the error it gives) for (path, blob sha) pairs, in their order; for many
        blocks (a whole snapshot), so the stored entries are loaded first."""
        if self._recent is None:
            self._recent = self._load("recent")
        if self._base is None:
            self._base = self._load("base")
        blocks, recent, base = self._blocks, self._recent, self._base
        out: list[tuple[str, Any]] = []
        with collector_paused():
            for path, sha in entries:
                self.used.add(sha)
                found = blocks.get(sha)
                if found is None and (entry := recent.get(sha) or base.get(sha)) is not None:
                    found = blocks[sha] = _rebuild(entry)
                out.append((path, found or sha))
        for n, (path, found) in enumerate(out):
            if isinstance(found, str):
                try:
                    out[n] = (path, self.block(found, path, read))
                except BlockError as exc:
                    out[n] = (path, exc)
        return out

    def _stored(self, sha: str, *, load: bool) -> tuple[Any, ...] | None:
        if self._recent is None:
            self._recent = self._load("recent")
        entry = self._recent.get(sha)
        if entry is None and (load or self._base is not None):
            if self._base is None:
                self._base = self._load("base")
            entry = self._base.get(sha)
        return entry

    def _load(self, name: str) -> dict[str, tuple[Any, ...]]:
        return read_store(self.folder / name if self.folder else None, store_format())

    def save(self, *, whole_tree: bool = False) -> None:
        """Write what this run parsed; best effort (a read-only git dir just stays cold).

        `whole_tree`: this run read every block of a tree, so entries it did not use (beyond `SPARE`)
        are old versions and may be dropped; other runs never drop an entry."""
        if self.folder is None:
            return
        stored = len(self._base or ()) + len(self._recent or ()) + len(self._new)
        untrimmed = whole_tree and self._base is not None and stored > len(self.used) + SPARE + RECENT_LIMIT
        if not self._new and not untrimmed:
            return
        recent = {**(self._recent if self._recent is not None else self._load("recent")), **self._new}
        if len(recent) > RECENT_LIMIT or untrimmed:
            merged = {**(self._base if self._base is not None else self._load("base")), **recent}
            self._base = trimmed(merged, self.used) if whole_tree else merged
            self._write("base", self._base)
            recent = {}
        self._write("recent", recent)
        self._recent, self._new = recent, {}

    def _write(self, name: str, entries: dict[str, tuple[Any, ...]]) -> None:
        assert self.folder is not None
        write_store(self.folder / name, store_format(), entries)


@functools.cache
def store_format() -> str:
    """What a store must have been written with to be read: the block's shape and a digest of the
    block format's source, so any change to parsing (released or not) starts a fresh store."""
    digest = hashlib.sha1(usedforsecurity=False)
    for source in sorted(Path(format_package.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return f"mindmem-blocks/1/{digest.hexdigest()}/{','.join(_FIELDS)}/{','.join(_CONSTRAINT_FIELDS)}"


def trimmed(entries: dict[str, Any], used: set[str]) -> dict[str, Any]:
    """The entries in `used`, and up to `SPARE` others (kept in their stored order)."""
    keep = {sha: entries[sha] for sha in used if sha in entries}
    for sha, value in entries.items():
        if len(keep) >= len(used) + SPARE:
            break
        keep.setdefault(sha, value)
    return keep


def _entry(block: Block) -> tuple[Any, ...] | None:
    """A block as a tuple of its fields plus its wiki links (so a stored block never re-runs the Markdown
    parser); None if a value of an unknown key cannot be stored in marshal format."""
    values = [getattr(block, name) for name in _FIELDS]
    constraint = block.constraint
    if constraint is not None:
        values[_CONSTRAINT] = tuple(getattr(constraint, name) for name in _CONSTRAINT_FIELDS)
    entry = (*values, block.wiki_links)
    try:
        marshal.dumps(entry)
    except ValueError:
        return None
    return entry


def _rebuild(entry: tuple[Any, ...]) -> Block:
    """The `Block` an entry was made from, its fields set directly: the values were validated when the
    text was parsed, and `Block` is frozen only against changes after it is built. (Setting the whole
    `__dict__` at once is the cheapest way; this runs once per block of a snapshot.)"""
    state = dict(zip(_FIELDS, entry[:-1], strict=True))
    if entry[_CONSTRAINT] is not None:
        state["constraint"] = Constraint(*entry[_CONSTRAINT])
    state["wiki_links"] = entry[-1]
    block = object.__new__(Block)
    object.__setattr__(block, "__dict__", state)
    return block
