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

from collections import OrderedDict
from dataclasses import replace
from sys import intern
from typing import TYPE_CHECKING

from mindmem.search import ranking
from mindmem.search.terms import TEXT_ANALYZER, query_terms

if TYPE_CHECKING:
    from mindmem.search.view import Doc, IndexView

# Blobs whose lines are kept per process (a 20-turn session is a few KB).
CACHE = 2_000

# A body line as its stemmed terms, in order; a passage as its query terms' counts (in query order) and length.
Line = tuple[str, ...]
Passage = tuple[tuple[int, ...], int]
_lines: OrderedDict[str, tuple[Line, ...]] = OrderedDict()


def rescored(view: IndexView, docs: list[Doc], text: str, weights: ranking.Weights = ranking.DEFAULT) -> list[Doc]:
    """`docs` (ranked by document score) re-ranked by the mix of document and best-passage scores."""
    share, size = ranking.PASSAGE_WEIGHT, ranking.PASSAGE_WINDOW
    long = {d.id: lines(view, d) for d in docs if d.length > ranking.LONG_BODY} if share else {}
    long = {i: found for i, found in long.items() if len(found) > size}
    terms = query_terms(text) if long else []
    if not terms:
        return docs
    found = {i: passages(block_lines, terms, size) for i, block_lines in long.items()}
    every = [length for windows in found.values() for _, length in windows]
    average = sum(every) / len(every)
    idf = [view.text_idf(t, weights) for t in terms]
    out = []
    for doc in docs:
        if doc.id in found:
            best = max(score(p, idf, weights, average) for p in found[doc.id])
            doc = replace(doc, score=(1 - share) * doc.score + share * best)
        out.append(doc)
    return sorted(out, key=lambda d: -d.score)


def score(passage: Passage, idf: list[float], weights: ranking.Weights, average: float) -> float:
    """BM25 of one passage, with the document ranking's k1 and b: each query term's idf times its
    frequency, normalised by the passage's length against the average passage of the candidates."""
    counts, length = passage
    return sum(
        weight * ranking.saturate(ranking.normalised(tf, length, average, weights.b), weights.k1)
        for tf, weight in zip(counts, idf, strict=True)
        if tf
    )


def passages(block_lines: tuple[Line, ...], terms: list[str], size: int) -> list[Passage]:
    """Every window of `size` consecutive lines, as the counts of `terms` in it and its length."""
    rows = [([line.count(t) for t in terms], len(line)) for line in block_lines]
    out = []
    for start in range(max(1, len(rows) - size + 1)):
        window = rows[start : start + size]
        out.append((tuple(map(sum, zip(*(c for c, _ in window), strict=True))), sum(n for _, n in window)))
    return out


def lines(view: IndexView, doc: Doc) -> tuple[Line, ...]:
    """The block's non-blank body lines as their terms (stemmed as the index stems), kept by blob."""
    found = _lines.get(doc.blob)
    if found is not None:
        _lines.move_to_end(doc.blob)
        return found
    # Interned: a term is one string however many lines and blocks hold it.
    stemmed = (tuple(intern(t.text) for t in TEXT_ANALYZER(line)) for line in view.block(doc).body.splitlines())
    found = _lines[doc.blob] = tuple(terms for terms in stemmed if terms)
    while len(_lines) > CACHE:
        _lines.popitem(last=False)
    return found
