"""Passage scoring: a long block is also judged by its best passage, not only as a whole.

Whole-document BM25 dilutes a long block (a dated conversation session, an ADR, an incident write-up,
meeting notes) whose answer is one or two lines of it: the question's words are spread over a body many
times longer than the part that answers. So a candidate whose body is long (more than `ranking.LONG_BODY`
terms) is also scored by its best passage, a window of `ranking.PASSAGE_WINDOW` consecutive non-blank lines,
by BM25 over that window alone with the index's idf; its score becomes a mix of the two (MaxP, mixed
with the document score). A shorter body is about one passage already and keeps its score.

Passages come from the block's text at query time, for the candidates of a query only; nothing is stored
at index time. Each blob's passages (stemmed as the index stems) are kept per process by blob id, so they
are never stale.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING

from mindmem.search import ranking
from mindmem.search.terms import TEXT_ANALYZER, query_terms

if TYPE_CHECKING:
    from mindmem.search.view import Doc, IndexView

# Blobs whose passages are kept per process.
CACHE = 20_000

Passage = tuple[Counter[str], int]
_passages: OrderedDict[tuple[str, int], tuple[Passage, ...]] = OrderedDict()


def rescored(view: IndexView, docs: list[Doc], text: str, weights: ranking.Weights = ranking.DEFAULT) -> list[Doc]:
    """`docs` (ranked by document score) re-ranked by the mix of document and best-passage scores."""
    share = ranking.PASSAGE_WEIGHT
    long = {d.id: passages(view, d) for d in docs if d.length > ranking.LONG_BODY} if share else {}
    long = {i: found for i, found in long.items() if len(found) > 1}
    terms = query_terms(text)
    if not long or not terms:
        return docs
    idf = {t: view.text_idf(t, weights) for t in terms}
    every = [length for found in long.values() for _, length in found]
    average = sum(every) / len(every)
    out = []
    for doc in docs:
        if doc.id in long:
            best = max(score(p, idf, weights, average) for p in long[doc.id])
            doc = replace(doc, score=(1 - share) * doc.score + share * best)
        out.append(doc)
    return sorted(out, key=lambda d: -d.score)


def score(passage: Passage, idf: dict[str, float], weights: ranking.Weights, average: float) -> float:
    """BM25 of one passage, with the document ranking's k1 and b: each query term's idf times its
    frequency, normalised by the passage's length against the average passage of the candidates."""
    counts, length = passage
    return sum(
        weight * ranking.saturate(ranking.normalised(counts[t], length, average, weights.b), weights.k1)
        for t, weight in idf.items()
        if t in counts
    )


def passages(view: IndexView, doc: Doc) -> tuple[Passage, ...]:
    """The block's windows of `ranking.PASSAGE_WINDOW` non-blank body lines, as stemmed term counts and lengths."""
    size = ranking.PASSAGE_WINDOW
    found = _passages.get((doc.blob, size))
    if found is not None:
        _passages.move_to_end((doc.blob, size))
        return found
    lines = [Counter(t.text for t in TEXT_ANALYZER(line)) for line in view.block(doc).body.splitlines()]
    lines = [counts for counts in lines if counts]
    found = tuple(_window(lines[i : i + size]) for i in range(max(1, len(lines) - size + 1)))
    _passages[doc.blob, size] = found
    while len(_passages) > CACHE:
        _passages.popitem(last=False)
    return found


def _window(lines: list[Counter[str]]) -> Passage:
    total: Counter[str] = Counter()
    for line in lines:
        total.update(line)
    return total, sum(total.values())
