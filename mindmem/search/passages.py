"""Passage scoring: a long block is also judged by its best passage, not only as a whole.

Whole-document BM25 dilutes a long block (a dated conversation session, an ADR, an incident write-up,
meeting notes) whose answer is one or two lines of it: the question's words are spread over a body many
times longer than the part that answers. So a candidate whose body is long (more than `ranking.LONG_BODY`
terms) is also scored by its best passage, a window of `ranking.PASSAGE_WINDOW` consecutive non-blank lines,
by BM25 over that window alone; its score becomes a mix of the two (MaxP, mixed with the document score).
A shorter body is about one passage already and keeps its score.

A passage is judged among passages: each term's idf comes from the lines of the long candidates (`line_idf`),
not from whole blocks. A word that every session of a conversation holds (a speaker's name, "group") says
nothing about which session answers, but it still picks out the few lines that use it.

Passages come from the block's text at query time, for the candidates of a query only; nothing is stored
at index time. Each blob's body, as passage scoring reads it (stemmed as the index stems), is kept per
process by blob id, so it is never stale.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, replace
from sys import intern
from typing import TYPE_CHECKING

from mindmem.search import ranking
from mindmem.search.terms import query_terms, text_terms

if TYPE_CHECKING:
    from mindmem.search.view import Doc, IndexView

# Blobs whose bodies are kept per process (a 20-turn session is about 6 KB).
CACHE = 1_000


@dataclass(frozen=True)
class Body:
    """A long body as passage scoring reads it: the length of each non-blank line in terms, and the lines
    each term is on (a line once per occurrence), stemmed as the index stems."""

    lengths: tuple[int, ...]
    lines: dict[str, tuple[int, ...]]


_bodies: OrderedDict[str, Body] = OrderedDict()


def rescored(view: IndexView, docs: list[Doc], text: str, weights: ranking.Weights = ranking.DEFAULT) -> list[Doc]:
    """`docs` (ranked by document score) re-ranked by the mix of document and best-passage scores."""
    share, size = ranking.PASSAGE_WEIGHT, ranking.PASSAGE_WINDOW
    long = {d.id: body(view, d) for d in docs if d.length > ranking.LONG_BODY} if share else {}
    long = {i: found for i, found in long.items() if len(found.lengths) > size}
    terms = query_terms(text) if long else []
    if not terms:
        return docs
    lengths = {i: window_lengths(found.lengths, size) for i, found in long.items()}
    # The average passage: over every window of the long candidates.
    average = sum(map(sum, lengths.values())) / sum(map(len, lengths.values()))
    idf = line_idf(long.values(), {t: view.text_idf(t, weights) for t in terms})
    out = []
    for doc in docs:
        if doc.id in long:
            best = best_passage(long[doc.id], size, lengths[doc.id], idf, weights, average)
            doc = replace(doc, score=(1 - share) * doc.score + share * best)
        out.append(doc)
    return sorted(out, key=lambda d: -d.score)


def line_idf(bodies: Collection[Body], index_idf: dict[str, float]) -> dict[str, float]:
    """Each query term's idf over the non-blank lines of `bodies` (terms on no line are left out), scaled so
    that together they weigh what their index idfs do: the lines decide which terms say most about a
    passage, the index how much the query says in all, so a passage score stays on the scale of the
    document scores it is mixed with and compared to (more lines than blocks lifts no long block)."""
    lines = sum(len(found.lengths) for found in bodies)
    held = {t: sum(len(set(found.lines.get(t, ()))) for found in bodies) for t in index_idf}
    local = {t: ranking.idf(lines, count) for t, count in held.items() if count}
    if not local:
        return {}
    scale = sum(index_idf[t] for t in local) / sum(local.values())
    return {t: weight * scale for t, weight in local.items()}


def window_lengths(line_lengths: tuple[int, ...], size: int) -> list[int]:
    """The length in terms of each window of `size` consecutive lines (one window if there are fewer)."""
    ends = [0]
    for length in line_lengths:
        ends.append(ends[-1] + length)
    last = len(line_lengths)
    return [ends[min(start + size, last)] - ends[start] for start in range(max(1, last - size + 1))]


def best_passage(
    found: Body, size: int, lengths: list[int], idf: dict[str, float], weights: ranking.Weights, average: float
) -> float:
    """The best BM25 score of a window (as `window_lengths` cuts them), with the document ranking's k1 and
    b: each query term's idf times its frequency in the window, normalised by the window's length
    against the average passage of the candidates, saturated."""
    norms = [ranking.normalised(1.0, length, average, weights.b) for length in lengths]
    scores = [0.0] * len(lengths)
    for term, weight in idf.items():
        held = found.lines.get(term)
        if not held:
            continue
        # The term's frequency in each window that holds it.
        tf: dict[int, int] = {}
        for line in held:
            for start in range(max(0, line - size + 1), min(line, len(lengths) - 1) + 1):
                tf[start] = tf.get(start, 0) + 1
        for start, count in tf.items():
            scores[start] += weight * ranking.saturate(count * norms[start], weights.k1)
    return max(scores)


def body(view: IndexView, doc: Doc) -> Body:
    """The block's body as passage scoring reads it, kept by blob id."""
    found = _bodies.get(doc.blob)
    if found is not None:
        _bodies.move_to_end(doc.blob)
        return found
    lengths: list[int] = []
    lines: dict[str, list[int]] = {}
    for text in view.block(doc).body.splitlines():
        terms = text_terms(text)
        if terms:
            for term in terms:
                lines.setdefault(term, []).append(len(lengths))
            lengths.append(len(terms))
    found = _bodies[doc.blob] = Body(tuple(lengths), {intern(t): tuple(held) for t, held in lines.items()})
    while len(_bodies) > CACHE:
        _bodies.popitem(last=False)
    return found
