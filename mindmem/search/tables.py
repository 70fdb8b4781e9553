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

import bisect
import hashlib
import json
import mmap
import os
import struct
from array import array
from collections.abc import Callable, Sequence
from functools import cached_property
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from whoosh.reading import SegmentReader

EXTENSION = ".post"
_MAGIC = b"MMPOST1\n"
_HEAD = struct.Struct("<Q")
# A catch-up writes the table of a segment whoosh wrote (a few blocks, or small ones merged) by reading
# it back; past this many documents that would cost more than the table saves, and the segment is read
# through whoosh as before.
MAX_READ_BACK = 20_000
SMALL_TABLE = 4096
# The arrays' types as the file names them (numpy's names), by the `array` module's type codes. The file is
# written and read without numpy, which costs ~150 ms to import: a catch-up in a new process (a git hook,
# `mm approve`) writes and reads tables but scores nothing. Only `Table.postings`/`lengths` load numpy.
_TYPES = {"Q": "uint64", "q": "int64", "i": "int32", "f": "float32", "d": "float64", "B": "uint8"}
_CODES = {name: code for code, name in _TYPES.items()}


def key_hash(key: bytes) -> int:
    """A term key's 64-bit hash (stable across processes, unlike Python's `hash`)."""
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")


class Builder:
    """Collects a segment's postings term by term, in any order, then writes the table.

    Kept in flat arrays: a term's key, its hash and its postings' count; every posting's document number and
    weight (a build holds every posting of its run at once)."""

    def __init__(self) -> None:
        self._hashes = array("Q")
        self._counts = array("q")
        self._key_sizes = array("q")
        self._keys = array("B")
        self._docnums = array("i")
        self._weights = array("f")  # counts and boosts: whole, exact in 32 bits

    def add(self, field: str, term: bytes, docnums: Sequence[int], weights: Sequence[float]) -> None:
        key = field.encode("utf-8") + b"\0" + term
        self._hashes.append(key_hash(key))
        self._keys.frombytes(key)
        self._key_sizes.append(len(key))
        self._counts.append(len(docnums))
        self._docnums.extend(docnums)
        self._weights.extend(weights)

    def write(self, path: Path, documents: int, lengths: dict[str, Any]) -> None:
        """Write the table; `lengths`: each scorable field's lengths by document number (float64 buffers)."""
        # Terms sorted by hash (stable: equal hashes keep the order they were added in); postings stay put.
        order = sorted(range(len(self._hashes)), key=self._hashes.__getitem__)
        counts, sizes = self._counts, self._key_sizes
        ends, key_ends = array("q", accumulate(counts)), array("q", accumulate(sizes))
        arrays: dict[str, Any] = {
            "hashes": array("Q", map(self._hashes.__getitem__, order)),
            "starts": array("q", (ends[i] - counts[i] for i in order)),
            "ends": array("q", map(ends.__getitem__, order)),
            "key_starts": array("q", (key_ends[i] - sizes[i] for i in order)),
            "key_ends": array("q", map(key_ends.__getitem__, order)),
            "keys": self._keys,
            "docnums": self._docnums,
            "weights": self._weights,
        }
        for field, found in sorted(lengths.items()):
            arrays[f"length:{field}"] = found
        _write(path, arrays, documents)


def _typed(values: Any) -> tuple[str, memoryview]:
    """(type name, bytes) of an `array` or a contiguous numpy array."""
    code = getattr(values, "typecode", None)
    return (_TYPES[code] if code is not None else str(values.dtype)), memoryview(values).cast("B")


def _write(path: Path, arrays: dict[str, Any], documents: int) -> None:
    """The header, then each array 8-byte aligned, streamed to a temporary file renamed into place (a build's
    largest table is tens of MB: copying it whole into one bytes object doubled the build's peak memory)."""
    layout, offset = {}, 0
    typed = {name: _typed(values) for name, values in arrays.items()}
    for name, (kind, raw) in typed.items():
        layout[name] = [offset, kind, raw.nbytes // _itemsize(kind)]
        offset += raw.nbytes + -raw.nbytes % 8
    head = json.dumps({"documents": documents, "arrays": layout, "size": offset}).encode()
    head += b" " * (-(len(_MAGIC) + _HEAD.size + len(head)) % 8)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as out:
            out.write(_MAGIC + _HEAD.pack(len(head)) + head)
            for _, raw in typed.values():
                out.write(raw)
                out.write(b"\0" * (-raw.nbytes % 8))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _itemsize(kind: str) -> int:
    return array(_CODES[kind]).itemsize


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
        whole = memoryview(self._map)
        # Typed views of the mapped file (no copy); numpy arrays over the same bytes only when scoring asks.
        self.views = {
            name: whole[start + offset : start + offset + count * _itemsize(kind)].cast(_CODES[kind])
            for name, (offset, kind, count) in head["arrays"].items()
        }
        self._hashes, self._keys = self.views["hashes"], self.views["keys"]
        self._starts, self._ends = self.views["starts"], self.views["ends"]
        # A catch-up's segment has a few hundred terms: a dict of them costs less than hashing each key.
        self._small: dict[bytes, int] | None = None
        if len(self._hashes) <= SMALL_TABLE:
            starts, ends = self.views["key_starts"].tolist(), self.views["key_ends"].tolist()
            keys = self._keys.tobytes()
            self._small = {keys[a:b]: i for i, (a, b) in enumerate(zip(starts, ends, strict=True))}

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        import numpy as np  # here, not at the top: see _TYPES

        return {name: np.frombuffer(view, np.dtype(_TYPES[view.format])) for name, view in self.views.items()}

    def postings(self, field: str, term: str | bytes) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, weights) of `term` in `field`, as whoosh's reader gives them."""
        import numpy as np

        at = self._find(field, term)
        if at is None:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        span = slice(self._starts[at], self._ends[at])
        return self.arrays["docnums"][span].astype(np.int64), self.arrays["weights"][span].astype(np.float64)

    def docnums(self, field: str, term: str | bytes) -> list[int]:
        """The document numbers of `term` in `field` (what `postings` gives, without loading numpy)."""
        at = self._find(field, term)
        return [] if at is None else self.views["docnums"][self._starts[at] : self._ends[at]].tolist()

    def _find(self, field: str, term: str | bytes) -> int | None:
        key = field.encode("utf-8") + b"\0" + (term if isinstance(term, bytes) else term.encode("utf-8"))
        if self._small is not None:
            return self._small.get(key)
        wanted, hashes, views = key_hash(key), self._hashes, self.views
        at = bisect.bisect_left(hashes, wanted)
        while at < len(hashes) and hashes[at] == wanted:  # more than one only on a hash collision
            if self._keys[views["key_starts"][at] : views["key_ends"][at]].tobytes() == key:
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


Read = Callable[["SegmentReader", str, bytes], tuple[Sequence[int], Sequence[float]]]


def write_from_reader(folder: str | Path, reader: SegmentReader, read: Read) -> None:
    """Write the table of a segment whoosh wrote, reading its postings back through `read(reader, field, term)`."""
    builder = Builder()
    for field, term in reader.all_terms():
        docnums, weights = read(reader, field, term)
        builder.add(field, term, docnums, weights)
    documents = reader.doc_count_all()
    lengths = {
        field: array("d", [reader.doc_field_length(n, field, 0) or 0 for n in range(documents)])
        for field in reader.schema.scorable_names()
    }
    builder.write(path_of(folder, reader.segment().segment_id()), documents, lengths)
