"""Parsed blocks keyed by git blob id, so reading a snapshot parses only content it has not seen.

Content-addressed, so never stale: a blob id names exactly one text, and parsing depends on the
text alone (the path only names the file in errors). Derived data in the git common dir, never
committed, shared by every worktree and process of a repository, in two files (`tiers`), so a run
that changed k blocks writes O(k) bytes, not the whole store.

Entries are plain tuples of a block's fields in marshal format: loading them and setting the
fields of each `Block` directly is several times cheaper than unpickling frozen dataclasses.
A store written by a mindmem whose block format differs (`store_format`) is treated as empty.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from mindmem.errors import BlockError, StateError
from mindmem.store import format as format_package
from mindmem.store import workers
from mindmem.store.blocks import Block, Constraint, parse
from mindmem.store.files import collector_paused
from mindmem.store.tiers import Tiers

_FIELDS = tuple(f.name for f in fields(Block))
_CONSTRAINT = _FIELDS.index("constraint")
_CONSTRAINT_FIELDS = tuple(f.name for f in fields(Constraint))
# Past this many blocks to read, loading the whole store beats parsing them one by one.
MANY = 300
# Blocks per core at least before a cold parse is shared with worker processes: a worker's start-up
# (interpreter and imports, about 0.3 s) must be small next to its share (a block parses in about 0.5 ms).
SHARE_MIN = 4_000
Read = Callable[[str], bytes]
# A blob to parse: (blob id, path, bytes).
Blob = tuple[str, str, bytes]


class ParsedBlocks:
    """The store of parsed blocks under `folder` (None: in memory only, nothing is written)."""

    def __init__(self, folder: Path | None) -> None:
        self.stored = Tiers(folder, store_format())
        self.used = self.stored.used
        self._blocks: dict[str, Block] = {}  # rebuilt or parsed in this run
        self.parses = 0  # blobs parsed in this run (what the store saved the rest of)

    def block(self, sha: str, path: str, read: Read, *, load: bool = True) -> Block:
        """The block in blob `sha`; BlockError (naming `path`) if it does not parse.

        `load`: look in the stored entries too (loading them is worth it when the caller reads many
        blocks; a caller reading a handful parses them rather than load the whole store)."""
        self.used.add(sha)
        found = self._blocks.get(sha)
        if found is not None:
            return found
        entry = self.stored.get(sha, load=load)
        if entry is not None:
            found = self._blocks[sha] = _rebuild(entry)
            return found
        found = self._blocks[sha] = parse(read(sha), path)
        self.parses += 1
        entry = _entry(found)
        if entry is not None:
            self.stored.new[sha] = entry
        return found

    def prefill(self, wanted: Sequence[tuple[str, str]], read: Read, *, parts: int | None = None) -> None:
        """Parse these (blob id, path) now, on every core when there are many (a cold store: a fresh
        clone), so `block` finds them. `parts`: how many processes share the work (default: one per core,
        each with at least SHARE_MIN blobs). A blob that does not read or parse is left for `block` to
        raise about, and a worker that fails leaves its share to `block` too."""
        todo = [(sha, path) for sha, path in wanted if sha not in self._blocks and self.stored.get(sha) is None]
        parts = parts or min(workers.cores(), len(todo) // SHARE_MIN)
        if parts < 2:
            return
        blobs: list[Blob] = []
        for sha, path in todo:
            with contextlib.suppress(BlockError):
                blobs.append((sha, path, read(sha)))
        shares = [blobs[i::parts] for i in range(parts)]
        with workers.running() as started:
            started += [workers.start(__name__, [], share) for share in shares[1:]]
            for sha, path, data in shares[0]:
                with contextlib.suppress(BlockError):
                    self.block(sha, path, lambda _, data=data: data)
            for worker in started:
                with contextlib.suppress(StateError):
                    for sha, entry in workers.result(worker, "a parsing worker"):
                        self._blocks[sha] = _rebuild(entry)
                        self.stored.new[sha] = entry
                        self.parses += 1

    def parsed(self, entries: Iterable[tuple[str, str]], read: Read) -> list[tuple[str, Block | BlockError]]:
        """(path, block or the error it gives) for (path, blob sha) pairs, in their order; for many
        blocks (a whole snapshot), so the stored entries are loaded first."""
        recent, base = self.stored.loaded()
        blocks = self._blocks
        out: list[tuple[str, Any]] = []
        with collector_paused():
            for path, sha in entries:
                self.used.add(sha)
                found = blocks.get(sha)
                if found is None and (entry := recent.get(sha) or base.get(sha)) is not None:
                    found = blocks[sha] = _rebuild(entry)
                out.append((path, found or sha))
        self.prefill([(found, path) for path, found in out if isinstance(found, str)], read)
        for n, (path, found) in enumerate(out):
            if isinstance(found, str):
                try:
                    out[n] = (path, self.block(found, path, read))
                except BlockError as exc:
                    out[n] = (path, exc)
        return out

    def save(self, *, whole_tree: bool = False) -> None:
        """Write what this run parsed (see `Tiers.save`)."""
        self.stored.save(whole_tree=whole_tree)


@functools.cache
def store_format() -> str:
    """What a store must have been written with to be read: the block's shape and a digest of the
    block format's source, so any change to parsing (released or not) starts a fresh store."""
    digest = hashlib.sha1(usedforsecurity=False)
    for source in sorted(Path(format_package.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return f"mindmem-blocks/1/{digest.hexdigest()}/{','.join(_FIELDS)}/{','.join(_CONSTRAINT_FIELDS)}"


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


def _work() -> None:
    """A parsing worker (`python -m mindmem.store.parsed`): its (sha, path, bytes) share on stdin,
    (sha, entry) of each blob that parses into a storable entry on stdout."""
    found = []
    for sha, path, data in workers.read_share():
        try:
            entry = _entry(parse(data, path))
        except BlockError:
            continue
        if entry is not None:
            found.append((sha, entry))
    workers.reply(found)


if __name__ == "__main__":
    _work()
