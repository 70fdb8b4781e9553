"""Building a whole index: every block written once, as whoosh segments, on every core.

A build (`index_files.build`) writes all blocks into a fresh folder. Whoosh's own writer was most of a
build and grew faster than the corpus (docs/benchmarks.md); this one writes the same segment files
(tests compare them byte for byte) with three costs taken out:

- fields are analysed by plain functions (`terms.text_terms` for text), not whoosh's chains of token
  generators;
- postings are kept per term in memory (about 16 bytes each) and written in term order at the end,
  instead of whoosh's external sort, which spills runs to disk past `limitmb` and merges them in Python;
- each posting block's field lengths come from what was written, not from the column file per posting.

A large build splits the blocks into contiguous runs, one segment each, written by worker processes.
The table of contents lists the segments in run order, so every document keeps the number a
one-segment build gives it; queries read across segments (`view`), so scores and the order of ties
are those of a one-segment build.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh import index as wix
from whoosh.analysis import IDAnalyzer, KeywordAnalyzer
from whoosh.formats import Existence
from whoosh.index import TOC, clean_files
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from mindmem.errors import BlockError
from mindmem.search import tables
from mindmem.search.document import document, schema
from mindmem.search.terms import TEXT_ANALYZER, text_terms
from mindmem.store import workers
from mindmem.store.blocks import parse

if TYPE_CHECKING:
    from whoosh.codec.base import Segment
    from whoosh.fields import FieldType

# A block file to index: (path, bytes, git blob id).
Source = tuple[str, bytes, str]
Progress = Callable[[int, int], None]
Tokenizer = Callable[[str], list[str]]

# Blocks per worker process at least: a worker's start-up (interpreter and imports, about 0.5 s) must be
# small next to its share (4,000 blocks are several seconds of writing).
PART_MIN = 4_000
MAX_PARTS = 4
_INDEX_NAME = "MAIN"


@dataclass(frozen=True)
class Part:
    """What one run of blocks became: its segment (None when no block parsed), and the unparseable paths."""

    segment: Segment | None
    written: int
    skipped: tuple[str, ...]


def parts_for(count: int) -> int:
    """How many runs to split `count` blocks into: one per core, each at least PART_MIN blocks."""
    return max(1, min(workers.cores(), MAX_PARTS, count // PART_MIN))


def build(folder: Path, files: Sequence[Source], parts: int, progress: Progress | None = None) -> tuple[int, set[str]]:
    """Write `files` into the empty index in `folder` as `parts` segments; (documents written, unparseable paths)."""
    runs = _runs(files, parts)
    dirs = [folder / f"part-{i}" for i in range(len(runs))]

    def own(done: int, _: int) -> None:  # this process writes the first run while the workers write theirs
        if progress is not None:
            progress(min(len(files), done * len(runs)), len(files))

    with workers.running() as started:
        # Each worker's run is spooled beside its part, in the build's own folder.
        for part, run in zip(dirs[1:], runs[1:], strict=True):
            started.append(workers.start(__name__, [str(part)], list(run), folder))
        written = [write_part(dirs[0], runs[0], own)]
        written += [Part(*workers.result(worker, "an index build worker")) for worker in started]
    _join(folder, dirs, written)
    if progress is not None:
        progress(len(files), len(files))
    return sum(p.written for p in written), {path for p in written for path in p.skipped}


def _runs(files: Sequence[Source], parts: int) -> list[Sequence[Source]]:
    """`files` cut into `parts` contiguous runs of about the same number of bytes (a block's cost grows with
    its size, and the type folders differ: runs of equal counts kept one worker waiting on the other)."""
    total = sum(len(data) for _, data, _ in files)
    cuts, seen = [0], 0
    for i, (_, data, _) in enumerate(files):
        if len(cuts) < parts and seen >= total * len(cuts) / parts:
            cuts.append(i)
        seen += len(data)
    cuts.append(len(files))
    return [files[a:b] for a, b in pairwise(cuts) if b > a] or [files]


def write_part(folder: Path, run: Sequence[Source], progress: Progress | None = None) -> Part:
    """Index one run of blocks as one segment of a new index in `folder` (a folder of the build's own)."""
    folder.mkdir(parents=True)
    # Separate files, not whoosh's compound one: whoosh opens a compound segment by copying its terms and
    # postings out of the mapped file (BytesIO), about 100 ms and 70 MB per 50,000 blocks in every process.
    writer = BulkWriter(wix.create_in(str(folder), schema(), indexname=_INDEX_NAME), compound=False)
    skipped = []
    try:
        for done, (path, data, blob) in enumerate(run, 1):
            try:
                block = parse(data, path)
            except BlockError:
                skipped.append(path)  # reported by `mm validate` and the checks; recall answers from the rest
            else:
                writer.add_document(**document(block, path), blob=blob)
            if progress is not None and done % 200 == 0:
                progress(done, len(run))
        written = writer.docnum
        writer.commit(merge=False)
    except BaseException:
        writer.cancel()
        raise
    ix = wix.open_dir(str(folder), indexname=_INDEX_NAME)
    segments = TOC.read(ix.storage, _INDEX_NAME).segments
    if segments:
        path = tables.path_of(folder, segments[0].segment_id())
        writer.pool.table.write(path, written, writer.lengths.arrays(written))
    return Part(segments[0] if segments else None, written, tuple(skipped))


def _join(folder: Path, dirs: Sequence[Path], parts: Sequence[Part]) -> None:
    """Move each part's segment files into `folder` and list the segments, in run order, in one table of contents."""
    segments = [p.segment for p in parts if p.segment is not None]
    names = {s.segment_id() for s in segments}
    for part in dirs:
        for file in part.iterdir():
            if file.name.split(".", 1)[0] in names:
                os.rename(file, folder / file.name)
        shutil.rmtree(part)
        part.with_name(f"{part.name}.in").unlink(missing_ok=True)
    ix = wix.open_dir(str(folder), indexname=_INDEX_NAME)
    generation = ix.latest_generation() + 1
    TOC(ix.schema, segments, generation).write(ix.storage, _INDEX_NAME)
    clean_files(ix.storage, _INDEX_NAME, generation, segments)


class BulkWriter(SegmentWriter):
    """Whoosh's segment writer for a new segment of documents that are only added (no deletes, no merges)."""

    def __init__(self, ix: wix.FileIndex, **options: Any) -> None:
        # No whoosh lock: the folder is the build's own, and the build holds the index lock.
        super().__init__(ix, _lk=False, **options)
        if any(f.vector or f.column_type or f.separate_spelling() for _, f in self.schema.items()):
            raise ValueError("BulkWriter writes postings, stored values and lengths only")
        self.pool = Postings()
        self.lengths = Lengths()
        self._tokenizers = {name: _tokenizer(field) for name, field in self.schema.items() if field.indexed}

    def add_document(self, **fields: Any) -> None:
        # What SegmentWriter.add_document does for this schema, field by field in name order.
        perdoc, docnum, add = self.perdocwriter, self.docnum, self.pool.add_posting
        perdoc.start_doc(docnum)
        for name in sorted(fields):
            value = fields[name]
            if value is None:
                continue
            field = self.schema[name]
            length = 0
            if field.indexed:
                for btext, freq, weight, vbytes in _items(field, value, self._tokenizers[name]):
                    length += freq
                    add(name, btext, docnum, weight, vbytes)
                length = length if field.scorable else 0
            perdoc.add_field(name, field, value if field.stored else None, length)
            if length:
                self.lengths.add(name, docnum, length)
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def per_document_reader(self) -> Lengths:
        # Whoosh reads each posting's field length back through the column reader to write posting blocks.
        return self.lengths


def _items(field: FieldType, value: str, tokens: Tokenizer | None) -> Iterator[tuple[bytes, int, float, bytes]]:
    """(term, frequency, weight, value) per distinct term, as `field.index(value)` gives them."""
    if tokens is None:
        yield from field.index(value)
        return
    boost = field.format.field_boost
    if isinstance(field.format, Existence):
        for term in set(tokens(value)):
            yield term.encode("utf-8"), 1, boost, b""
        return
    for term, freq in Counter(tokens(value)).items():  # whoosh's Frequency format: weight = frequency x boost
        yield term.encode("utf-8"), freq, float(freq) * boost, pack_uint(freq)


def _tokenizer(field: FieldType) -> Tokenizer | None:
    """The terms `field.analyzer` gives, as a plain function, for the analyzers this schema uses (None: any other)."""
    analyzer = field.analyzer
    if analyzer is TEXT_ANALYZER:
        return text_terms
    if analyzer == IDAnalyzer():
        return lambda value: [value]
    for lowercase in (False, True):
        if analyzer == KeywordAnalyzer(lowercase=lowercase):
            return partial(_split, _SPACES_RE, lowercase=lowercase, strip=False)
        if analyzer == KeywordAnalyzer(lowercase=lowercase, commas=True):
            return partial(_split, _COMMAS_RE, lowercase=lowercase, strip=True)
    return None


# whoosh's SpaceSeparatedTokenizer and CommaSeparatedTokenizer (which strips each item).
_SPACES_RE = re.compile(r"[^ \t\r\n]+")
_COMMAS_RE = re.compile(r"[^,]+")


def _split(pattern: re.Pattern[str], value: str, *, lowercase: bool, strip: bool) -> list[str]:
    words = pattern.findall(value)
    words = [w.strip() for w in words] if strip else words
    return [w.lower() for w in words] if lowercase else words


class Postings:
    """A segment's postings by (field, term), document numbers ascending; handed to the field writer in term order.

    Kept flat (document number, index of its (weight, value) pair): most postings share a few pairs.
    Each term is also added to the segment's posting table (`tables`) as it is written.
    """

    def __init__(self) -> None:
        self.fieldnames: set[str] = set()
        self._terms: dict[tuple[str, bytes], list[int]] = {}
        self._values: dict[tuple[float, bytes], int] = {}
        self._table: list[tuple[float, bytes]] = []
        self.table = tables.Builder()

    def add_posting(self, fieldname: str, btext: bytes, docnum: int, weight: float, vbytes: bytes) -> None:
        value = self._values.get((weight, vbytes))
        if value is None:
            value = self._values[(weight, vbytes)] = len(self._table)
            self._table.append((weight, vbytes))
        found = self._terms.get((fieldname, btext))
        if found is None:
            found = self._terms[(fieldname, btext)] = []
            self.fieldnames.add(fieldname)
        found += (docnum, value)

    def iter_postings(self) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        table = self._table
        weight_of = [weight for weight, _ in table].__getitem__
        for key in sorted(self._terms):
            fieldname, btext = key
            flat = self._terms.pop(key)  # written once: let it go
            self.table.add(fieldname, btext, flat[0::2], list(map(weight_of, flat[1::2])))
            for i in range(0, len(flat), 2):
                weight, vbytes = table[flat[i + 1]]
                yield fieldname, btext, flat[i], weight, vbytes

    def cleanup(self) -> None:
        self._terms.clear()


class Lengths:
    """Each document's length per scorable field, as whoosh's per-document reader returns it (one byte, rounded)."""

    def __init__(self) -> None:
        self._fields: dict[str, dict[int, int]] = {}

    def add(self, fieldname: str, docnum: int, length: int) -> None:
        self._fields.setdefault(fieldname, {})[docnum] = byte_to_length(length_to_byte(length))

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        found = self._fields.get(fieldname)
        return default if found is None else found.get(docnum)

    def close(self) -> None:
        pass  # whoosh closes it after the postings; the posting table is written from it after that

    def arrays(self, documents: int) -> dict[str, np.ndarray]:
        """Each field's lengths by document number (0 where a document has none), for the posting table."""
        out = {}
        for fieldname, found in self._fields.items():
            out[fieldname] = lengths = np.zeros(documents)
            lengths[np.fromiter(found, np.int64, len(found))] = np.fromiter(found.values(), np.float64, len(found))
        return out


def _work(folder: str) -> None:
    """A worker: the run on stdin, its part (segment, written, skipped) on stdout."""
    part = write_part(Path(folder), workers.read_share())
    workers.reply((part.segment, part.written, part.skipped))


if __name__ == "__main__":
    _work(sys.argv[1])
