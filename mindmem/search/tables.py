"""Posting tables: a segment's postings and field lengths as flat arrays, in one file beside the segment.

Whoosh keeps a segment's terms in a hash file and each posting list as pickled, compressed blocks: the
first use of a term cost a Python hash look-up per segment and an unpickling per block, most of a
query at 100k blocks (docs/benchmarks.md). A table holds the same postings for numpy: term keys
(`field NUL term`) sorted by a 64-bit hash, where each term's postings start and end, every
posting's document number and weight, and each scorable field's lengths by document number. A look-up
is one binary search over the hashes and two slices of a memory-mapped file.

Written wherever a segment is written (`bulk` from its own postings; a catch-up's small segments from
whoosh's reader, `write_from_reader`) and named `<segment id>.post`, so whoosh removes it with its
segment. A segment without a table is read through whoosh (`segments`), so an index is right either
way; a table that does not match its segment is damage, and the index is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import struct
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from whoosh.reading import SegmentReader

EXTENSION = ".post"
_MAGIC = b"MMPOST1\n"
_HEAD = struct.Struct("<Q")
# A catch-up writes the table of a segment whoosh wrote (a few blocks, or small ones merged) by reading
# it back; past this many documents that would cost more than the table saves, and the segment is read
# through whoosh as before.
MAX_READ_BACK = 20_000
SMALL_TABLE = 4096


def key_hash(key: bytes) -> int:
    """A term key's 64-bit hash (stable across processes, unlike Python's `hash`)."""
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")


class Builder:
    """Collects a segment's postings term by term, in any order, then writes the table.

    Kept in flat arrays (a term's key, its hash and its postings' count; the postings in arrays made as large
    as `postings` says, grown when it is short): a build holds every posting of its run at once."""

    def __init__(self, postings: int = 1024) -> None:
        self._hashes = array("Q")
        self._counts = array("q")
        self._key_sizes = array("q")
        self._keys = bytearray()
        self._docnums = np.empty(max(postings, 1), np.int32)
        self._weights = np.empty(max(postings, 1), np.float32)  # counts and boosts: whole, exact in 32 bits
        self._held = 0

    def add(self, field: str, term: bytes, docnums: Sequence[int], weights: Sequence[float] | np.ndarray) -> None:
        key = field.encode("utf-8") + b"\0" + term
        self._hashes.append(key_hash(key))
        self._keys += key
        self._key_sizes.append(len(key))
        self._counts.append(len(docnums))
        end = self._held + len(docnums)
        if end > len(self._docnums):
            self._docnums = np.resize(self._docnums, 2 * end)
            self._weights = np.resize(self._weights, 2 * end)
        self._docnums[self._held : end] = docnums
        self._weights[self._held : end] = weights
        self._held = end

    def write(self, path: Path, documents: int, lengths: dict[str, np.ndarray]) -> None:
        hashes = np.frombuffer(self._hashes, np.uint64) if self._hashes else np.empty(0, np.uint64)
        order = np.argsort(hashes, kind="stable")
        counts = np.frombuffer(self._counts, np.int64) if self._counts else np.empty(0, np.int64)
        sizes = np.frombuffer(self._key_sizes, np.int64) if self._key_sizes else np.empty(0, np.int64)
        ends, key_ends = np.cumsum(counts), np.cumsum(sizes)
        arrays = {
            "hashes": hashes[order],
            "starts": (ends - counts)[order],
            "ends": ends[order],
            "key_starts": (key_ends - sizes)[order],
            "key_ends": key_ends[order],
            "keys": np.frombuffer(self._keys, np.uint8),
            "docnums": self._docnums[: self._held],
            "weights": self._weights[: self._held],
        }
        for field, found in sorted(lengths.items()):
            arrays[f"length:{field}"] = found.astype(np.float64)
        _write(path, arrays, documents)


def _write(path: Path, arrays: dict[str, np.ndarray], documents: int) -> None:
    """The header, then each array 8-byte aligned, streamed to a temporary file renamed into place (a build's
    largest table is tens of MB: copying it whole into one bytes object doubled the build's peak memory)."""
    layout, offset = {}, 0
    for name, values in arrays.items():
        layout[name] = [offset, str(values.dtype), len(values)]
        offset += values.nbytes + -values.nbytes % 8
    head = json.dumps({"documents": documents, "arrays": layout, "size": offset}).encode()
    head += b" " * (-(len(_MAGIC) + _HEAD.size + len(head)) % 8)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as out:
            out.write(_MAGIC + _HEAD.pack(len(head)) + head)
            for values in arrays.values():
                out.write(memoryview(np.ascontiguousarray(values)).cast("B"))
                out.write(b"\0" * (-values.nbytes % 8))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class Table:
    """One segment's table, memory-mapped (the pages a query touches are all it reads)."""

    def __init__(self, path: Path, documents: int) -> None:
        with path.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if self._map[: len(_MAGIC)] != _MAGIC:
            raise ValueError(f"{path.name}: not a posting table")
        (size,) = _HEAD.unpack_from(self._map, len(_MAGIC))
        start = len(_MAGIC) + _HEAD.size
        head = json.loads(self._map[start : start + size])
        start += size
        if head["documents"] != documents or len(self._map) != start + head["size"]:
            raise ValueError(f"{path.name}: does not match its segment")
        self.arrays = {
            name: np.frombuffer(self._map, np.dtype(dtype), count, start + offset)
            for name, (offset, dtype, count) in head["arrays"].items()
        }
        self._hashes = self.arrays["hashes"]
        self._keys = self.arrays["keys"]
        self._starts, self._ends = self.arrays["starts"], self.arrays["ends"]
        # A catch-up's segment has a few hundred terms: a dict of them costs less than hashing each key.
        self._small: dict[bytes, int] | None = None
        if len(self._hashes) <= SMALL_TABLE:
            starts, ends = self.arrays["key_starts"].tolist(), self.arrays["key_ends"].tolist()
            keys = self._keys.tobytes()
            self._small = {keys[a:b]: i for i, (a, b) in enumerate(zip(starts, ends, strict=True))}

    def postings(self, field: str, term: str | bytes) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, weights) of `term` in `field`, as whoosh's reader gives them."""
        key = field.encode("utf-8") + b"\0" + (term if isinstance(term, bytes) else term.encode("utf-8"))
        at = self._small.get(key) if self._small is not None else self._find(key)
        if at is None:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        span = slice(int(self._starts[at]), int(self._ends[at]))
        return self.arrays["docnums"][span].astype(np.int64), self.arrays["weights"][span].astype(np.float64)

    def _find(self, key: bytes) -> int | None:
        wanted = np.uint64(key_hash(key))
        hashes, arrays = self._hashes, self.arrays
        at = int(hashes.searchsorted(wanted))  # the method: numpy's function form costs 4x as much per call
        while at < len(hashes) and hashes[at] == wanted:  # more than one only on a hash collision
            if self._keys[arrays["key_starts"][at] : arrays["key_ends"][at]].tobytes() == key:
                return at
            at += 1
        return None

    def lengths(self, field: str) -> np.ndarray | None:
        """Every document's length in `field` (None: the field is not scorable)."""
        return self.arrays.get(f"length:{field}")


def path_of(folder: str | Path, segment_id: str) -> Path:
    return Path(folder) / f"{segment_id}{EXTENSION}"


def load(folder: str | Path, segment_id: str, documents: int) -> Table | None:
    """The table of a segment, or None when it has none (whoosh wrote it and nothing wrote the table)."""
    path = path_of(folder, segment_id)
    try:
        return Table(path, documents)
    except FileNotFoundError:
        return None


Read = Callable[["SegmentReader", str, bytes], tuple[np.ndarray, np.ndarray]]


def write_from_reader(folder: str | Path, reader: SegmentReader, read: Read) -> None:
    """Write the table of a segment whoosh wrote, reading its postings back through `read(reader, field, term)`."""
    builder = Builder()
    for field, term in reader.all_terms():
        docnums, weights = read(reader, field, term)
        builder.add(field, term, docnums, weights)
    documents = reader.doc_count_all()
    lengths = {
        field: np.fromiter((reader.doc_field_length(n, field, 0) or 0 for n in range(documents)), np.float64, documents)
        for field in reader.schema.scorable_names()
    }
    builder.write(path_of(folder, reader.segment().segment_id()), documents, lengths)
