"""Reading an index: documents, BM25F scores per term from cached postings, filters and reverse links."""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mindmem.errors import BadInput, NotFound, StateError
from mindmem.search import ranking, segments
from mindmem.search.index_files import open_index
from mindmem.search.terms import WORD_RE, entity_terms, query_terms
from mindmem.store.blocks import ID_IN_TEXT_RE, Block, parse

if TYPE_CHECKING:
    from whoosh import index as wix

    from mindmem.store.memory import Memory

MAX_QUERY_CHARS = 4000
# Postings whose scores an open index keeps between queries (about 12 bytes each).
POSTINGS_CACHE = 2_000_000
MAX_QUERY_TERMS = 64


@dataclass(frozen=True)
class Doc:
    """A stored index document: enough to show a result without reading the block."""

    id: str
    type: str
    status: str
    title: str
    path: str
    created: str
    score: float = 0.0
    wiki: tuple[str, ...] = ()
    blob: str = ""
    # Terms in the body (set by `search`, for passage scoring): a long body is also judged by its best passage.
    length: float = 0.0
    # Its number in the view it came from (-1: none), so the index can answer for it without its ID.
    docnum: int = dataclasses.field(default=-1, compare=False)


_VIEWS: dict[str, IndexView] = {}


def view_of(memory: Memory, folder: Path, sha: str) -> IndexView:
    # One view per index folder: a process answering many queries pays for reading each term once.
    ix = open_index(folder)
    view = _VIEWS.get(str(folder))
    if view is None or view.ix is not ix or view.commit != sha or view.closed:
        view = _VIEWS[str(folder)] = IndexView(memory, ix, sha)
    return view


class IndexView:
    """Read-only lookups over one index, at one commit."""

    def __init__(self, memory: Memory, ix: wix.FileIndex, commit: str) -> None:
        self.ix = ix
        self.commit = commit
        self.git = memory.git
        self.leaves = segments.leaves(ix)
        self._offsets = [leaf.offset for leaf in self.leaves]
        self._blocks: dict[str, Block] = {}
        # Scores are summed over every document number of the index, deleted ones included, then masked.
        self._size = sum(leaf.reader.doc_count_all() for leaf in self.leaves)
        self._alive = np.ones(self._size, bool)
        for leaf in self.leaves:
            self._alive[[leaf.offset + n for n in leaf.deleted]] = False
        self._deletions = not self._alive.all()
        self._masks: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
        # (field, term) -> (document numbers, BM25F scores at boost 1), least recently used first.
        self._postings: OrderedDict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cached_postings = 0
        self._field_lengths: dict[str, tuple[np.ndarray, float]] = {}
        self.documents = sum(leaf.documents for leaf in self.leaves)
        self._fields: dict[int, dict[str, Any]] = {}

    @property
    def closed(self) -> bool:
        """Whether a reader this view reads through was closed (dropped from the readers kept per process)."""
        return any(leaf.reader.is_closed for leaf in self.leaves)

    def search(
        self,
        text: str,
        *,
        limit: int,
        types: Collection[str] | None = None,
        hide: Collection[str] = (),
        weights: ranking.Weights = ranking.DEFAULT,
    ) -> list[Doc]:
        """Ranked documents for free text, scored as `mindmem.search.ranking` describes.

        Each term's scores are computed once per view and kept: queries in one process share most
        of their terms, and summing cached arrays is several times faster than re-reading postings.
        Scores are summed signal by signal in one array over the document numbers, so each document's
        total is the same sum, in the same order, as adding its scores one at a time.
        """
        totals = np.zeros(self._size)
        found = np.zeros(self._size, bool)
        for key, weight in query_signals(text, weights):
            docnums, scores = self._scores(key, weights)
            totals[docnums] += weight * scores
            found[docnums] = True
        if weights.time_prior and ranking.asks_when(text):
            timed = self._docnums("cues", "time")
            totals[timed[found[timed]]] *= 1 + weights.time_prior
        keep, drop = self._mask("type", types), self._mask("status", hide)
        if keep is not None:
            found &= keep
        if drop is not None:
            found &= ~drop
        lengths = self._lengths("body")[0]
        top = _top(np.flatnonzero(found), totals, limit)
        return [self._stored(docnum, score, float(lengths[docnum])) for docnum, score in top]

    def _scores(self, key: tuple[str, str], weights: ranking.Weights) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, scores) of one signal: ("text", term) is BM25F over the text fields;
        (field, term) of a keyword field is that term's idf where present (a bounded bonus)."""
        cache_key = (*key, weights) if key[0] == "text" else key
        found = self._postings.get(cache_key)
        if found is not None:
            self._postings.move_to_end(cache_key)
            return found
        field, term = key
        if field == "text":
            found = self._bm25f(term, weights)
        else:
            docnums = self._docnums(field, term)
            found = (docnums, np.full(len(docnums), ranking.idf(self.documents, len(docnums))))
        self._keep(cache_key, found)
        return found

    def _keep(self, key: tuple[Any, ...], found: tuple[np.ndarray, np.ndarray]) -> None:
        self._postings[key] = found
        self._cached_postings += len(found[0])
        while self._cached_postings > POSTINGS_CACHE and len(self._postings) > 1:
            _, (old, _) = self._postings.popitem(last=False)
            self._cached_postings -= len(old)

    def _bm25f(self, term: str, weights: ranking.Weights) -> tuple[np.ndarray, np.ndarray]:
        # Field by field, as ranking describes: weighted, length-normalised frequencies added, then saturated.
        combined = np.zeros(self._size)
        present = np.zeros(self._size, bool)
        for field in ranking.TEXT_FIELDS:
            docnums, tfs = self._frequencies(field, term)
            if len(docnums):
                lengths, average = self._lengths(field)
                combined[docnums] += weights.text(field) * ranking.normalised(tfs, lengths[docnums], average, weights.b)
                present[docnums] = True
        # The documents holding the term, ascending: a pass over a mask, not a sort of the fields' lists.
        docnums = np.flatnonzero(present)
        if not len(docnums):
            return np.empty(0, np.int64), np.empty(0)
        weight = ranking.idf(self.documents, len(docnums))
        return docnums, weight * ranking.saturate(combined[docnums], weights.k1)

    def text_idf(self, term: str, weights: ranking.Weights = ranking.DEFAULT) -> float:
        """The idf of a stemmed term over the text fields, as BM25F uses it (from the cached scores)."""
        return ranking.idf(self.documents, len(self._scores(("text", term), weights)[0]))

    def _frequencies(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, frequencies) of `term` in `field` over every segment, deleted documents left out."""
        found = []
        for leaf in self.leaves:
            docnums, tfs = segments.leaf_postings(leaf, field, term)
            if len(docnums):  # most terms are in few segments: a catch-up's holds a few blocks
                found.append((docnums + leaf.offset, tfs))
        if not found:
            return np.empty(0, np.int64), np.empty(0)
        docnums = np.concatenate([d for d, _ in found])
        tfs = np.concatenate([f for _, f in found])
        if self._deletions:
            alive = self._alive[docnums]
            return docnums[alive], tfs[alive]
        return docnums, tfs

    def _docnums(self, field: str, term: str) -> np.ndarray:
        """Documents holding `term` in `field` (cached like scores: reverse links are asked per query)."""
        key = ("#", field, term)
        found = self._postings.get(key)
        if found is None:
            found = (self._frequencies(field, term)[0], np.empty(0))
            self._keep(key, found)
        return found[0]

    def _stored(self, docnum: int, score: float, length: float = 0.0) -> Doc:
        docnum = int(docnum)
        fields = self._fields.get(docnum)
        if fields is None:
            leaf = self.leaves[bisect_right(self._offsets, docnum) - 1]
            fields = self._fields[docnum] = leaf.reader.stored_fields(docnum - leaf.offset)
        return _doc(fields, score, length, docnum)

    def _lengths(self, field: str) -> tuple[np.ndarray, float]:
        """Every document's length in `field` (by document number) and the average length."""
        found = self._field_lengths.get(field)
        if found is None:
            parts, total = [], 0.0
            for leaf in self.leaves:
                segment = segments.lengths(leaf.reader, field)
                parts.append(segment)
                # Deleted documents (replaced by a catch-up) keep their numbers but not their lengths. Summed
                # one by one, as floats, in document order: the average is the same whatever the segments.
                total += sum(segment.tolist()) - sum(float(segment[n]) for n in leaf.deleted)
            average = total / self.documents if self.documents else 0.0
            found = self._field_lengths[field] = (np.concatenate(parts) if parts else np.empty(0), average)
        return found

    def _mask(self, field: str, values: Collection[str] | None) -> np.ndarray | None:
        """Which documents have one of `values` in `field`, computed once per view (whoosh would per query)."""
        if not values:
            return None
        key = (field, tuple(sorted(values)))
        found = self._masks.get(key)
        if found is None:
            found = self._masks[key] = np.zeros(self._size, bool)
            for value in values:
                found[self._docnums(field, value)] = True
        return found

    def listing(self, types: Collection[str], statuses: Collection[str], limit: int) -> list[Doc]:
        """Documents of `types` in `statuses`, newest first (for questions that name a state, not words)."""
        keep, status = self._mask("type", types), self._mask("status", statuses)
        found = [] if keep is None or status is None else np.flatnonzero(keep & status)
        docs = [self._stored(docnum, 0.0) for docnum in found]
        return sorted(docs, key=lambda d: (d.created, d.id), reverse=True)[:limit]

    def docs(self, ids: Iterable[str]) -> dict[str, Doc]:
        """Stored documents by block ID (IDs with no document are left out)."""
        out = {}
        for block_id in dict.fromkeys(ids):
            docnums = self._docnums("id", block_id)
            if len(docnums):
                out[block_id] = self._stored(docnums[0], 0.0)
        return out

    def linking(self, targets: Iterable[str], edge_type: str | None = None, limit: int | None = None) -> list[Doc]:
        """Documents with an edge (of `edge_type`, or any) to one of `targets`, at most `limit` of them."""
        terms = [f"{edge_type}:{t}" if edge_type else t for t in dict.fromkeys(targets)]
        found = sorted({docnum for term in terms for docnum in self._docnums("links", term).tolist()})
        return [self._stored(docnum, 0.0) for docnum in found[:limit]]

    def linking_among(self, target: str, docs: Collection[Doc]) -> set[str]:
        """The IDs of `docs` (documents of this view) with an edge to `target`: the reverse links in the index
        say so without reading their blocks (a document's links are its block's edges)."""
        linking = set(self._docnums("links", target).tolist())  # not np.isin: it imports numpy.ma (20 ms)
        return {d.id for d in docs if d.docnum in linking}

    def block(self, doc: Doc) -> Block:
        """The block behind a document, read from git at this view's commit (so it matches the index)."""
        found = self._blocks.get(doc.blob)
        if found is None:
            try:
                data = self.git.read_blob(doc.blob)
            except NotFound:
                raise StateError(f"{doc.path} is in the index but its blob is gone; run `mm index rebuild`") from None
            found = self._blocks[doc.blob] = parse(data, doc.path)
            # Prime the cached property with what the index recorded (same blob, so the same links).
            vars(found)["wiki_links"] = doc.wiki
        return found


def query_signals(text: str, weights: ranking.Weights = ranking.DEFAULT) -> list[tuple[tuple[str, str], float]]:
    """What free text is searched for: ((field, term), weight) pairs, "text" standing for BM25F over the
    text fields. Never parses whoosh syntax, so any input is safe."""
    if len(text) > MAX_QUERY_CHARS:
        raise BadInput(f"query is {len(text)} characters; the limit is {MAX_QUERY_CHARS}")
    signals = [(("text", term), 1.0) for term in query_terms(text)[:MAX_QUERY_TERMS]]
    for word in list(dict.fromkeys(w.lower() for w in WORD_RE.findall(text)))[:MAX_QUERY_TERMS]:
        signals.append((("tags", word), weights.tags))
    names = entity_terms(text)
    words = WORD_RE.findall(text)
    if not names and len(words) == 1 and words[0][0].isupper():
        names = entity_terms(f"the {words[0]}")  # a lone capitalised word ("Pricing", "Alice") is a name
    for term in names[:MAX_QUERY_TERMS]:
        signals += [(("entities", term), weights.entities), (("about", term), weights.about)]
    for block_id in dict.fromkeys(ID_IN_TEXT_RE.findall(text)):
        signals += [((field, block_id), weight) for field, weight in ranking.ID_WEIGHTS.items()]
    return signals


def _top(docnums: np.ndarray, totals: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """The `limit` best of `docnums` by total, ties to the lower document number."""
    scores = totals[docnums]
    if len(scores) > limit > 0:
        # Every document scoring at least the limit-th best score, ties included, then sorted exactly.
        cut = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        docnums, scores = docnums[scores >= cut], scores[scores >= cut]
    order = np.lexsort((docnums, -scores))[: max(limit, 0)]
    return list(zip(docnums[order].tolist(), scores[order].tolist(), strict=True))


def _doc(fields: dict[str, Any], score: float, length: float = 0.0, docnum: int = -1) -> Doc:
    return Doc(
        id=fields["id"],
        type=fields["type"],
        status=fields["status"],
        title=fields["title"],
        path=fields["path"],
        created=fields.get("created", ""),
        score=round(float(score), 4),
        wiki=tuple(fields.get("wiki", "").split()),
        blob=fields.get("blob", ""),
        length=length,
        docnum=docnum,
    )
