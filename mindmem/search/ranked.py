"""Ranking for one question: BM25F hits from the index, boosts from the moment a block was written
and from graph neighbours of strong hits, and reciprocal rank fusion of a question in parts."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mindmem.search import dates, graph, passages
from mindmem.search import index as idx
from mindmem.search.results import Hit, Search
from mindmem.store.snapshot import Snapshot

if TYPE_CHECKING:
    import networkx as nx

# Candidates fetched per (sub-)query before boosting and cutting to --limit.
POOL = 30
# The top hits within STRONG_RATIO of the best score pass a share of their score to graph neighbours.
STRONG_HITS = 3
STRONG_RATIO = 0.5
NEIGHBOUR_WEIGHT = 0.2
# The share of the best score among blocks created at the same moment that each of them gets.
MOMENT_WEIGHT = 0.5
# Incoming links read per block when walking out from hits: an entity that half the memory links to
# is a hub, and its neighbours are capped rather than all loaded.
LINK_CAP = 50
RRF_K = 60
RRF_TIEBREAK = 0.01

_QUESTION_WORDS = "who|what|when|where|why|how|which"
# Sub-question boundaries: ; ? sentence ends, "also", and ", and who/what/…" starting a new question. A
# period after an initial or a title ("C. S. Lewis", "J.K. Rowling", "Dr. Seuss") ends no sentence, and
# "and" before an auxiliary ("... and is delicious", "... and have a bad time") joins two verbs of one question.
# (The look-behinds come after the period, so they are tried only at a period.)
_SENTENCE_END = r"\.(?<!\b[A-Za-z]\.)(?<!\b(?:Dr|Mr|Ms|St)\.)(?<!\bMrs\.)\s+"
_SPLIT_RE = re.compile(
    rf"\s*(?:[;?]+|{_SENTENCE_END}|\balso\b|,?\s+and\s+(?=(?:{_QUESTION_WORDS})\b))\s*", re.IGNORECASE
)
# A question ("What did John and Max do?") rather than a list of keywords.
_QUESTION_RE = re.compile(rf"\b(?:{_QUESTION_WORDS})\b|\?", re.IGNORECASE)
_LEADING_RE = re.compile(r"^(?:and|also|but|then|plus)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Ask:
    """What every mode needs: the index view (one commit), the result size, type filter and hidden statuses."""

    view: idx.IndexView
    limit: int
    types: tuple[str, ...] | None
    hide: tuple[str, ...]
    # Sub-queries someone else made (a model, for `--reformulate`); None: split the question by rules.
    parts: tuple[str, ...] | None = None

    @property
    def commit(self) -> str:
        return self.view.commit

    def hit(self, doc: idx.Doc, score: float | None = None, via: str | None = None) -> Hit:
        score = doc.score if score is None else score
        return Hit(doc.id, doc.title, doc.type, doc.status, round(score, 4), self.commit, doc.path, via)

    def visible(self, doc: idx.Doc) -> bool:
        return doc.status not in self.hide and (self.types is None or doc.type in self.types)


# -- similar ---------------------------------------------------------------------------


def similar(ask: Ask, query: str) -> Search:
    hits, parts = search(ask, query)
    return Search("similar", query, ask.commit, tuple(hits[: ask.limit]), parts)


def search(ask: Ask, query: str, for_part: Callable[[str], Ask] | None = None) -> tuple[list[Hit], tuple[str, ...]]:
    """Ranked hits for a question; a multi-part question also runs each part (asked as `for_part` says)
    and fuses the rankings."""
    parts = list(ask.parts) if ask.parts is not None else decompose(query)
    ranked = _ranked(ask, query)
    if parts:
        ranked = fuse([ranked, *(_ranked(for_part(part) if for_part else ask, part) for part in parts)])
    if ask.hide:
        retired = _superseded_by_edge(ask, [h.id for h in ranked])
        ranked = [h for h in ranked if h.id not in retired]
    return ranked, tuple(parts)


def _ranked(ask: Ask, text: str) -> list[Hit]:
    """BM25F hits for one query, plus a share of each strong hit's score for its graph neighbours."""
    docs = ask.view.search(text, limit=max(POOL, ask.limit * 3), types=ask.types, hide=ask.hide)
    docs = dates.dated(passages.rescored(ask.view, docs, text), text)
    if not docs:
        return []
    # Context: blocks written at the same moment (one conversation session, one extraction run) as a
    # strong match share part of its score, as graph neighbours do below.
    best: dict[str, float] = {}
    for d in docs:
        best[d.created] = max(best.get(d.created, 0.0), d.score)
    scores = {d.id: d.score + MOMENT_WEIGHT * best[d.created] for d in docs}
    found = {d.id: d for d in docs}
    via: dict[str, str] = {}
    strong = [d for d in docs[:STRONG_HITS] if d.score >= STRONG_RATIO * docs[0].score]
    g, near = neighbourhood(ask.view, strong, depth=1)
    for hub in strong:
        around = set(g.successors(hub.id)) | set(g.predecessors(hub.id))
        neighbours = sorted(n for n in around if n != hub.id and n in near and ask.visible(near[n]))
        if not neighbours:
            continue
        # Spread like one step of a random walk: a hub with many neighbours gives each a smaller share.
        share = NEIGHBOUR_WEIGHT * hub.score / math.sqrt(len(neighbours))
        for n in neighbours:
            scores[n] = scores.get(n, 0.0) + share
            found.setdefault(n, near[n])
            via.setdefault(n, hub.id)
    order = sorted(scores, key=lambda i: (-scores[i], i))
    return [ask.hit(found[i], scores[i], via.get(i)) for i in order]


def neighbourhood(
    view: idx.IndexView, seeds: Iterable[idx.Doc], depth: int, types: Collection[str] | None = None
) -> tuple[nx.MultiDiGraph, dict[str, idx.Doc]]:
    """The graph (from `graph.build_graph`) of the blocks within `depth` hops of `seeds` over `types` edges.

    Outgoing edges come from the blocks themselves, incoming ones from the index's reverse links,
    so only the blocks near the seeds are read.
    """
    docs = {d.id: d for d in seeds}
    frontier = list(docs)
    for _ in range(depth):
        outgoing = {t for i in frontier for e, t in view.block(docs[i]).all_edges() if types is None or e in types}
        found = list(view.docs(outgoing - docs.keys()).values())
        for edge_type in types or (None,):
            found += view.linking(frontier, edge_type, limit=LINK_CAP * len(frontier))
        frontier = []
        for doc in found:
            if doc.id not in docs:
                docs[doc.id] = doc
                frontier.append(doc.id)
    blocks = {i: view.block(d) for i, d in docs.items()}
    return graph.build_graph(Snapshot(view.commit, blocks, {i: d.path for i, d in docs.items()})), docs


def _superseded_by_edge(ask: Ask, ids: list[str]) -> set[str]:
    """IDs that a visible block supersedes, even if their own status was never updated."""
    retired: set[str] = set()
    for doc in ask.view.linking(ids, "supersedes"):
        if doc.status not in ask.hide:
            retired.update(ask.view.block(doc).targets("supersedes"))
    return retired & set(ids)


def decompose(query: str) -> list[str]:
    """Sub-queries of a multi-part question, or [] for a single one.

    Splits on ';', '?', sentence ends, 'also', and 'and' before a question word. Keywords ('billing storage
    engine and deploy pipeline owner') split on a plain 'and' too when both sides carry at least two search
    terms; a question does not: its 'and' joins two things it asks about together ("What did John and his
    team do?"), and asked apart, each half would rank blocks that hold only one of them.
    """
    parts = [_LEADING_RE.sub("", p.strip(" ,.")) for p in _SPLIT_RE.split(query)]
    parts = [p for p in parts if idx.query_terms(p)]
    if len(parts) == 1 and not _QUESTION_RE.search(query):
        halves = [h.strip(" ,.?") for h in re.split(r"\s+and\s+", parts[0], maxsplit=1, flags=re.IGNORECASE)]
        if len(halves) == 2 and all(len(idx.query_terms(h)) >= 2 for h in halves):
            parts = halves
    return parts if len(parts) > 1 else []


def fuse(rankings: list[list[Hit]]) -> list[Hit]:
    """Reciprocal rank fusion for a question in parts.

    Each ranking gives a block 1/(RRF_K + rank). A block's score is the best of these plus
    RRF_TIEBREAK times their sum: every part's best answers come first (a plain sum would let
    blocks that match several parts weakly crowd out the one that answers a single part well),
    and among equals a block relevant to more parts wins.
    """
    best: dict[str, float] = {}
    total: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, 1):
            share = 1.0 / (RRF_K + rank)
            best[hit.id] = max(best.get(hit.id, 0.0), share)
            total[hit.id] = total.get(hit.id, 0.0) + share
            first.setdefault(hit.id, hit)
    scores = {i: best[i] + RRF_TIEBREAK * total[i] for i in best}
    order = sorted(scores, key=lambda i: (-scores[i], i))
    return [replace(first[i], score=round(scores[i], 6)) for i in order]
