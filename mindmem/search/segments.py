"""What an index's segments hold, read once per process and kept across catch-ups.

Whoosh never changes a segment once written: a catch-up adds a new segment and marks documents of
older ones deleted, and a segment's deletions only grow. So a segment's field lengths and posting
lists, read once, stay right for as long as the segment exists; a view only has to leave out the
documents deleted since. The first query after a one-block catch-up then reads the new segment
alone, not every document's lengths and every posting of the index again.

Keyed by whoosh's segment id (random per segment; an `--at` copy of an index shares its segments'
files, so sharing their data is right too).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, chain
from typing import TYPE_CHECKING

from whoosh import index as wix
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import SegmentReader, TermNotFound

from mindmem.search import tables

if TYPE_CHECKING:
    import numpy as np
    from whoosh.codec.base import Segment
    from whoosh.fields import Schema
    from whoosh.filedb.filestore import Storage
    from whoosh.reading import IndexReader

# Postings kept (16 bytes each), least recently used dropped first.
MAX_POSTINGS = 2_000_000
# Segments whose field lengths are kept (a catch-up adds one small segment; merges replace them).
MAX_LENGTH_SEGMENTS = 64

# Open segment readers kept (opening the terms of a 100k-block segment costs ~80 ms); a view whose
# reader was closed meanwhile is made again (`IndexView.closed`).
MAX_READERS = 64

_readers: OrderedDict[str, SegmentReader] = OrderedDict()
# Posting tables of the segments that have one (a segment without is looked for again when next opened:
# a catch-up writes its segments' tables after whoosh commits).
_tables: dict[str, tables.Table] = {}
_lengths: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_postings: OrderedDict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
_held = 0


@dataclass(frozen=True)
class Leaf:
    """One segment as an index is now: its reader, where its document numbers start in the index, and
    which of its documents are deleted now (the reader, opened earlier, may know fewer)."""

    reader: SegmentReader
    offset: int
    deleted: frozenset[int]
    # Its posting table, when it has one (looked up once per table of contents, not per term).
    table: tables.Table | None = None

    @property
    def documents(self) -> int:
        return self.reader.doc_count_all() - len(self.deleted)


def leaves(ix: wix.FileIndex) -> list[Leaf]:
    """The segments of the index's latest table of contents, through readers kept per process: a catch-up
    adds a segment and deletions, and only the new segment is opened (whoosh's own searcher reopens every
    segment, copying each one's terms into memory: ~80 ms for a 100k-block segment)."""
    toc = wix.TOC.read(ix.storage, ix.indexname)
    found, offset = [], 0
    for segment in toc.segments:
        opened = reader(ix.storage, toc.schema, segment)
        found.append(Leaf(opened, offset, frozenset(segment.deleted_docs()), _tables.get(segment.segment_id())))
        offset += segment.doc_count_all()
    return found


def reader(storage: Storage, schema: Schema, segment: Segment) -> SegmentReader:
    """An open reader of `segment`, and its posting table loaded when it has one (opening them is also what
    proves their files readable: a table that does not match its segment raises)."""
    key = segment.segment_id()
    found = _readers.get(key)
    if found is None:
        found = _readers[key] = SegmentReader(storage, schema, segment)
        while len(_readers) > MAX_READERS:
            old, evicted = _readers.popitem(last=False)
            evicted.close()
            _tables.pop(old, None)
    else:
        _readers.move_to_end(key)
    if key not in _tables and (table := tables.load(storage.folder, key, segment.doc_count_all())) is not None:
        _tables[key] = table
    return found


def lengths(reader: IndexReader, field: str) -> np.ndarray:
    """Every document's length in `field`, by the segment's own document numbers (deleted ones too)."""
    import numpy as np  # not at the top: a catch-up, which scores nothing, never loads numpy (tables._TYPES)

    table = _tables.get(reader.segment().segment_id())
    if table is not None and (found := table.lengths(field)) is not None:
        return found
    key = (reader.segment().segment_id(), field)
    found = _lengths.get(key)
    if found is None:
        found = _lengths[key] = np.fromiter(
            (reader.doc_field_length(n, field, 0) or 0 for n in range(reader.doc_count_all())), np.float64
        )
        while len(_lengths) > MAX_LENGTH_SEGMENTS * 4:
            _lengths.popitem(last=False)
    else:
        _lengths.move_to_end(key)
    return found


def leaf_postings(leaf: Leaf, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """`postings` of a leaf's segment (through its table when it has one)."""
    return leaf.table.postings(field, term) if leaf.table is not None else postings(leaf.reader, field, term)


def postings(reader: IndexReader, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, term frequencies) of `term` in `field` in the segment, deleted documents too:
    callers leave out the ones deleted now (`Leaf.deleted`)."""
    global _held
    table = _tables.get(reader.segment().segment_id())
    if table is not None:
        return table.postings(field, term)
    key = (reader.segment().segment_id(), field, term)
    found = _postings.get(key)
    if found is not None:
        _postings.move_to_end(key)
        return found
    found = _postings[key] = read(reader, field, term)
    _held += len(found[0])
    while _held > MAX_POSTINGS and len(_postings) > 1:
        _, (old, _) = _postings.popitem(last=False)
        _held -= len(old)
    return found


def docnums(reader: IndexReader, field: str, term: str) -> list[int]:
    """The document numbers of `postings`, as a list, without numpy (what a catch-up deletes by)."""
    table = _tables.get(reader.segment().segment_id())
    return table.docnums(field, term) if table is not None else read_lists(reader, field, term)[0]


def read(reader: IndexReader, field: str, term: str | bytes) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, weights) of a term as whoosh holds them, as numpy arrays."""
    import numpy as np

    deltas, weights, starts = _blocks(reader, field, term)
    count = len(weights)
    docnums = np.fromiter(chain.from_iterable(deltas), np.int64, count)
    for at, before in starts:
        docnums[at] -= before
    return np.cumsum(docnums), np.fromiter(weights, np.float64, count)


def read_lists(reader: IndexReader, field: str, term: str | bytes) -> tuple[list[int], list[float]]:
    """`read`, as lists (a catch-up's small segments: no numpy)."""
    deltas, weights, starts = _blocks(reader, field, term)
    flat = list(chain.from_iterable(deltas))
    for at, before in starts:
        flat[at] -= before
    return list(accumulate(flat)), weights


def _blocks(reader: IndexReader, field: str, term: str | bytes) -> tuple[list[Sequence[int]], list[float], list]:
    """A term's posting blocks as whoosh stores them: (each block's ID deltas, every weight, and where each
    block starts among the postings with the last ID of the block before)."""
    try:
        matcher = reader.postings(field, term)  # one look-up in the terms table, not `in` and then another
    except TermNotFound:
        return [], [], []
    # Whole posting blocks at a time: whoosh's matcher API costs three calls per posting, which was most of
    # a query's first use of a term. The filter whoosh wraps around it for deletions is left off (see above).
    matcher = matcher.child if isinstance(matcher, FilterMatcher) else matcher
    if not isinstance(matcher, W3LeafMatcher):
        raise TypeError(f"unexpected whoosh posting reader {type(matcher).__name__}")
    # A block holds its IDs as deltas from the block's start (the first one absolute) and its weights as
    # None (all 1), one float (all equal) or one per posting: decoded with one cumulative sum, the first
    # delta of each block made relative to the last ID of the block before.
    deltas: list[Sequence[int]] = []
    weights: list[float] = []
    starts, last = [], 0
    while matcher.is_active():
        matcher._read_data()
        ids, found, _ = matcher._data
        starts.append((len(weights), last))
        deltas.append(ids)
        weights += found if isinstance(found, tuple) else [1.0 if found is None else found] * len(ids)
        last = matcher._maxid
        matcher._next_block()
    return deltas, weights, starts
