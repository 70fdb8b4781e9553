"""What `mm list` shows of each block, stored by blob id, so listing 100,000 unchanged blocks reads
one file of rows instead of rebuilding, sorting and serialising 100,000 `Block`s.

A row holds what the filters and the sort need and the block's frontmatter already as JSON; rows
live beside the parsed blocks in the git dir (`tiers`), made from the parsed block the first time a
blob is listed. A listing raises the same errors as a snapshot: the first malformed block file, or
a block ID two files share, in the order of the files.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from mindmem.errors import BadInput, BlockError, DuplicateId
from mindmem.store import blocks as b
from mindmem.store import gitdir, kept_listing
from mindmem.store.files import collector_paused
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

    The text of the whole listing is kept for the last set of block files listed (`kept_listing`),
    so listing unchanged memory again costs finding that nothing changed, and listing it after k
    files changed costs their k rows and splicing them into the kept text."""
    if type is not None or status is not None or tag is not None:
        return _encoded(listing(memory, type=type, status=status, tag=tag, at=at))
    _, entries, read = memory.blobs(at)
    lines, joined, digest = kept_listing.entry_lines(entries)
    folder = gitdir.blocks_cache(memory.git)
    text, texts = kept_listing.kept_text(folder, _kept_format(), digest)
    if text is not None:
        return text
    with collector_paused():
        kept = kept_listing.load(folder, _kept_format(), texts)
        gone, added = kept.changes(lines)
        new = [entries[n] for n in added]
        rows = _rows_of(memory, new, read, entries, load=len(new) >= MANY)
        _check_new(kept, gone, entries, dict(zip(new, rows, strict=True)))
        kept = kept_listing.spliced(kept, gone, [(row, path) for (path, _), row in zip(new, rows, strict=True)], joined)
    kept_listing.save(folder, _kept_format(), digest, kept)
    return kept.text


def _check_new(
    kept: kept_listing.Kept, gone: set[int], entries: list[tuple[str, str]], rows: dict[tuple[str, str], Any]
) -> None:
    """Raise what `_check` raises for the whole listing, if a new row (`rows`, by entry) is an error
    or brings an ID another file has; the kept rows (`kept` but `gone`) have none between them."""
    ids = [row[1] for row in rows.values() if not isinstance(row, BlockError)]
    clashes = kept_listing.positions(kept.ids, ids)
    if len(ids) == len(rows) == len(set(ids)) and gone.issuperset(clashes.values()):
        return
    kept_ids = dict(zip(kept.paths, kept.ids, strict=True))  # the error is the first file's, in file order
    _check(entries, [rows[entry] if entry in rows else (None, kept_ids[entry[0]]) for entry in entries])


def _encoded(rows: Iterable[Sequence[Any]]) -> str:
    """A JSON list of the rows' frontmatter (the last field of a `Listed` or of its plain tuple)."""
    return f"[{', '.join(row[-1] for row in rows)}]"


def _rows(memory: Memory, entries: list[tuple[str, str]], read: Callable[[str], bytes]) -> list[tuple[Any, ...]]:
    """The row (a `Listed` as a plain tuple) of each entry; raises for the first bad file (`_check`)."""
    rows = _rows_of(memory, entries, read, entries, load=True)
    _check(entries, rows)
    return rows


def _rows_of(
    memory: Memory,
    entries: list[tuple[str, str]],
    read: Callable[[str], bytes],
    tree: list[tuple[str, str]],
    *,
    load: bool,
) -> list[Any]:
    """The stored row of each entry (`tree`: the whole tree listed, whose rows the store keeps),
    made for blobs never listed before; the BlockError of a file that does not parse.
    `load`: load the whole stores first (worth it for many entries; for a few, parse those missing)."""
    folder = gitdir.blocks_cache(memory.git)
    stored = Tiers(folder, _format(), "listing-")
    if load:
        recent, base = stored.loaded()
        with collector_paused():
            rows: list[Any] = [recent.get(sha) or base.get(sha) for _, sha in entries]
    else:
        rows = [stored.get(sha, load=False) for _, sha in entries]
    missing = [(n, entry) for n, (entry, row) in enumerate(zip(entries, rows, strict=True)) if row is None]
    # For many, loading the whole parsed-block store is cheaper than parsing; a few are parsed here,
    # not through the store, whose entries need the Markdown parser (0.1 s to load) for their links.
    parsed = ParsedBlocks(folder) if len(missing) >= MANY else None
    if parsed:
        parsed.prefill([(sha, path) for _, (path, sha) in missing], read)
    for n, (path, sha) in missing:
        try:
            block = parsed.block(sha, path, read) if parsed else b.parse(read(sha), path)
        except BlockError as exc:
            rows[n] = exc
        else:
            rows[n] = stored.new[sha] = tuple(Listed.of(block))
    if parsed:
        parsed.save()
    if load or stored.new:  # else the save writes nothing and needs no `used`
        stored.used.update(sha for _, sha in tree)
    stored.save(whole_tree=True)
    return rows


def _check(entries: list[tuple[str, str]], rows: list[Any]) -> None:
    """The first file that failed to parse or whose block ID (a row's second field) an earlier file
    has, in file order."""
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


@functools.cache
def _kept_format() -> str:
    return f"mindmem-listing-kept/1/{_format()}"
