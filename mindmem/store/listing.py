"""What `mm list` shows of each block, stored by blob id, so listing 100,000 unchanged blocks reads
one file of rows instead of rebuilding, sorting and serialising 100,000 `Block`s.

A row holds what the filters and the sort need and the block's frontmatter already as JSON; rows
live beside the parsed blocks in the git dir (`tiers`), made from the parsed block the first time a
blob is listed. A listing raises the same errors as a snapshot: the first malformed block file, or
a block ID two files share, in the order of the files.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from mindmem.errors import BadInput, BlockError, DuplicateId
from mindmem.store import blocks as b
from mindmem.store import gitdir
from mindmem.store.files import collector_paused, read_store, write_store
from mindmem.store.parsed import MANY, ParsedBlocks, store_format
from mindmem.store.tiers import Tiers

if TYPE_CHECKING:
    from mindmem.store.memory import Memory


class _Filtered(Protocol):
    type: str
    status: str
    tags: tuple[str, ...]


_Item = TypeVar("_Item", bound=_Filtered)


class Listed(NamedTuple):
    """One block as a list shows it; rows sort oldest first (by `created`, then ID)."""

    created: str
    id: str
    type: str
    status: str
    tags: tuple[str, ...]
    title: str
    json: str  # the frontmatter (`Block.to_mapping`) as JSON

    @classmethod
    def of(cls, block: b.Block) -> Listed:
        mapping = json.dumps(block.to_mapping(), ensure_ascii=False)
        return cls(block.created, block.id, block.type, block.status, tuple(block.tags), block.title, mapping)


def check_filters(type: str | None, status: str | None) -> None:
    """BadInput for a type or status no block can have."""
    if type is not None and type not in b.TYPES:
        raise BadInput(f"unknown type '{type}'; expected one of {', '.join(b.TYPES)}")
    known = dict.fromkeys(s for statuses in b.STATUSES.values() for s in statuses)
    if status is not None and status not in known:
        raise BadInput(f"unknown status '{status}'; expected one of {', '.join(known)}")


def filtered(items: Iterable[_Item], type: str | None, status: str | None, tag: str | None) -> list[_Item]:
    """The blocks or rows of this type, status and tag; a filter that is None lets every item pass."""
    return [
        item
        for item in items
        if (type is None or item.type == type)
        and (status is None or item.status == status)
        and (tag is None or tag in item.tags)
    ]


def listing(
    memory: Memory,
    *,
    type: str | None = None,
    status: str | None = None,
    tag: str | None = None,
    at: str | None = None,
) -> list[Listed]:
    """The rows of the blocks in the work tree (`at=None`) or at a revision that pass the filters,
    oldest first; a malformed or duplicate block is an error (exit 2), as for `Memory.snapshot`."""
    check_filters(type, status)
    _, entries, read = memory.blobs(at)
    with collector_paused():
        return sorted(filtered(map(Listed._make, _rows(memory, entries, read)), type, status, tag))


def listing_json(
    memory: Memory,
    *,
    type: str | None = None,
    status: str | None = None,
    tag: str | None = None,
    at: str | None = None,
) -> str:
    """`listing` as one JSON list of the blocks' frontmatter.

    The text of the whole listing is kept for the last set of block files listed (a digest of
    their paths and blob ids names it), so listing unchanged memory again costs finding that
    nothing changed, not a row per block; listing it after a change costs the rows."""
    if type is not None or status is not None or tag is not None:
        return _encoded(listing(memory, type=type, status=status, tag=tag, at=at))
    _, entries, read = memory.blobs(at)
    digest = hashlib.sha1("\n".join(map("\0".join, entries)).encode(), usedforsecurity=False).hexdigest()
    kept = gitdir.blocks_cache(memory.git) / "listing-json"
    text = read_store(kept, _format()).get(digest)
    if text is None:
        with collector_paused():  # plain tuples sort like their `Listed`: none is made for the whole list
            text = _encoded(sorted(_rows(memory, entries, read)))
        write_store(kept, _format(), {digest: text})
    return text


def _encoded(rows: Iterable[Sequence[Any]]) -> str:
    """A JSON list of the rows' frontmatter (the last field of a `Listed` or of its plain tuple)."""
    return f"[{', '.join(row[-1] for row in rows)}]"


def _rows(memory: Memory, entries: list[tuple[str, str]], read: Callable[[str], bytes]) -> list[tuple[Any, ...]]:
    """The stored row (a `Listed` as a plain tuple) of each entry, made for blobs never listed before."""
    folder = gitdir.blocks_cache(memory.git)
    stored = Tiers(folder, _format(), "listing-")
    recent, base = stored.loaded()
    with collector_paused():
        rows: list[Any] = [recent.get(sha) or base.get(sha) for _, sha in entries]
    missing = [(n, entry) for n, (entry, row) in enumerate(zip(entries, rows, strict=True)) if row is None]
    parsed = ParsedBlocks(folder)
    for n, (path, sha) in missing:
        try:  # a few are parsed; for many, loading the whole parsed-block store is cheaper
            block = parsed.block(sha, path, read, load=len(missing) >= MANY)
        except BlockError as exc:
            rows[n] = exc  # raised by `_check` if no earlier file has a problem
        else:
            rows[n] = stored.new[sha] = tuple(Listed.of(block))
    parsed.save()
    _check(entries, rows)
    stored.used.update(sha for _, sha in entries)
    stored.save(whole_tree=True)
    return rows


def _check(entries: list[tuple[str, str]], rows: list[Any]) -> None:
    """The first file that failed to parse or whose block ID an earlier file has, in file order."""
    seen: dict[str, str] = {}
    for (path, _), row in zip(entries, rows, strict=True):
        if isinstance(row, BlockError):
            raise row
        if row[1] in seen:
            raise DuplicateId(path, row[1], seen[row[1]])
        seen[row[1]] = path


@functools.cache
def _format() -> str:
    return f"mindmem-listing/1/{store_format()}"
