"""Recall: answer a question from committed memory, through the search index and the typed graph.

Modes (see docs/recall.md):
- similar: BM25F over the index fields, graph neighbours of strong hits boosted, multi-part
  questions split into sub-queries fused by reciprocal rank fusion;
- intent: classify the question (decision, task, who, when, incident, fact) and search those types;
- verify: blocks that support or contradict a claim, and a verdict;
- diagnose: incidents and tasks matching a problem, with causes, fixes and tests along
  depends_on, derived_from and tested_by edges;
- bundle: an evidence bundle (facts, relations, timeline, entities) for an agent to cite.

Every item names the commit its block was read from, so `git show COMMIT:PATH` reproduces it.
The graph around the hits comes from `graph.build_graph` over just the blocks it needs,
found through the index, so a query never loads the whole memory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from mindmem.checks import contradictions
from mindmem.checks.context import CheckContext
from mindmem.errors import BadInput
from mindmem.search import graph
from mindmem.search import index as idx
from mindmem.store.blocks import ID_IN_TEXT_RE, TASK_STATUSES, TYPE_PREFIXES, TYPES, Block
from mindmem.store.snapshot import Snapshot

if TYPE_CHECKING:
    import networkx as nx

    from mindmem.store.memory import Memory

MODES = ("similar", "verify", "intent", "diagnose", "bundle")
HIDDEN_STATUSES = graph.RETIRED
MAX_LIMIT = 500
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
DIAGNOSE_EDGES = ("depends_on", "derived_from", "tested_by")
SUPPORT_COVERAGE = 0.6

_ENTITY_PREFIXES = TYPE_PREFIXES["entity"]
_QUESTION_WORDS = "who|what|when|where|why|how|which|is|are|was|were|did|does|do|has|have|can|should|could"
# Sub-question boundaries: ; ? sentence ends, "also", and ", and who/what/…" starting a new question.
_SPLIT_RE = re.compile(rf"\s*(?:[;?]+|\.\s+|\balso\b|,?\s+and\s+(?=(?:{_QUESTION_WORDS})\b))\s*", re.IGNORECASE)
_LEADING_RE = re.compile(r"^(?:and|also|but|then|plus)\s+", re.IGNORECASE)
_NEGATION_RE = re.compile(
    r"\b(?:not|no|never|none|nor|neither|without|avoid\w*|stop(?:ped)?|cannot|can't|won't|don't|doesn't|didn't|"
    r"isn't|aren't|wasn't|weren't|shouldn't|mustn't|must_not|should_not|instead of|rather than|drop(?:ped)?)\b",
    re.IGNORECASE,
)
_POSITIVE_MODALITIES = ("must", "should", "may")
# What kind of evidence each `mm check` contradiction code is, in verify's words.
_KINDS = {"MM-C001": "edge", "MM-C002": "constraint", "MM-C003": "constraint", "MM-C004": "constraint"}
_KINDS |= {"MM-C005": "fact", "MM-C006": "negation"}
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_VALUE_RE = re.compile(r"\b[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)+\b")

_OPEN = ("todo", "doing", "blocked")
_STATUS_WORDS = tuple(
    (re.compile(pattern, re.IGNORECASE), statuses)
    for pattern, statuses in (
        (r"\b(?:open|pending|remaining|outstanding|unfinished|to-?do)\b", _OPEN),
        (r"\b(?:in progress|doing|working on|started)\b", ("doing",)),
        (r"\bblocked\b", ("blocked",)),
        (r"\b(?:done|finished|completed|closed)\b", ("done",)),
        (r"\b(?:cancell?ed|dropped|abandoned)\b", ("canceled",)),
    )
)

# (label, pattern, types searched). The label with most matches wins; ties go to the earlier one.
INTENTS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE), types)
    for label, pattern, types in (
        (
            "incident",
            r"\b(?:incidents?|outages?|broke|broken|fail\w*|errors?|crash\w*|down|bugs?|regressions?|"
            r"postmortem|root cause|paged?|alerts?)\b",
            ("incident", "task"),
        ),
        (
            "task",
            r"\b(?:tasks?|todo|to-do|status|progress|blocked|done|finished|working on|backlog|assigned|"
            r"next steps?|remaining|open items?)\b",
            ("task",),
        ),
        (
            "decision",
            r"\b(?:decid\w*|decisions?|chose|choose|chosen|why did we|policy|polic\w+|agreed?|picked?|"
            r"should we|approach|rule|allowed)\b",
            ("decision",),
        ),
        (
            "who",
            r"\b(?:who|whom|whose|owners?|owns|responsible|maintain\w*|people|person|team)\b",
            ("entity", "decision", "task"),
        ),
        (
            "when",
            r"\b(?:when|dates?|since|until|deadline|due|expir\w*|how long|what time|timeline)\b",
            ("decision", "fact", "incident", "task"),
        ),
        (
            "fact",
            r"\b(?:what is|what's|which|how many|how much|versions?|config\w*|where|value)\b",
            ("fact", "note", "entity"),
        ),
    )
)


# -- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One block in an answer. `via` names the strong hit whose graph neighbour it is, when it was boosted."""

    id: str
    title: str
    type: str
    status: str
    score: float
    commit: str
    path: str
    via: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("id", "title", "type", "status", "score", "commit", "path")}
        if self.via:
            out["via"] = self.via
        return out


@dataclass(frozen=True)
class Intent:
    label: str
    types: tuple[str, ...]
    matched: tuple[str, ...]
    # True when nothing of those types matched and the answer searched every type instead.
    widened: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "types": list(self.types), "matched": list(self.matched), "widened": self.widened}


@dataclass(frozen=True)
class Search:
    """The answer of `similar` and `intent`."""

    mode: str
    query: str
    commit: str
    hits: tuple[Hit, ...]
    subqueries: tuple[str, ...] = ()
    intent: Intent | None = None
    # The intent of each sub-query, in the same order (intent mode only).
    subintents: tuple[Intent, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode, "query": self.query, "commit": self.commit}
        if self.intent is not None:
            out["intent"] = self.intent.to_json()
            out["subintents"] = [i.to_json() for i in self.subintents]
        out["subqueries"] = list(self.subqueries)
        out["results"] = [h.to_json() for h in self.hits]
        return out


@dataclass(frozen=True)
class Evidence:
    """A block that supports or contradicts a claim, and why (`kind`: text, constraint, fact, edge, negation)."""

    hit: Hit
    kind: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {**self.hit.to_json(), "kind": self.kind, "reason": self.reason}


@dataclass(frozen=True)
class Verification:
    query: str
    commit: str
    verdict: str
    supporting: tuple[Evidence, ...]
    contradicting: tuple[Evidence, ...]
    mode: str = "verify"

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "query": self.query,
            "commit": self.commit,
            "verdict": self.verdict,
            "supporting": [e.to_json() for e in self.supporting],
            "contradicting": [e.to_json() for e in self.contradicting],
        }


@dataclass(frozen=True)
class Linked:
    """A block reached from a diagnosis match: over which edge, from which block, how many hops away."""

    hit: Hit
    edge: str
    source: str
    target: str
    depth: int

    def to_json(self) -> dict[str, Any]:
        return {
            **self.hit.to_json(),
            "edge": {"source": self.source, "type": self.edge, "target": self.target},
            "depth": self.depth,
        }


@dataclass(frozen=True)
class Diagnosis:
    """A matching incident or task. causes: what it depends on or derives from; fixes: tasks and decisions
    that depend on or derive from it; tests: tested_by evidence; related: anything else on those edges."""

    match: Hit
    causes: tuple[Linked, ...] = ()
    fixes: tuple[Linked, ...] = ()
    tests: tuple[Linked, ...] = ()
    related: tuple[Linked, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out = self.match.to_json()
        for name in ("causes", "fixes", "tests", "related"):
            out[name] = [item.to_json() for item in getattr(self, name)]
        return out


@dataclass(frozen=True)
class Diagnoses:
    query: str
    commit: str
    diagnoses: tuple[Diagnosis, ...]
    mode: str = "diagnose"

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "query": self.query,
            "commit": self.commit,
            "diagnoses": [d.to_json() for d in self.diagnoses],
        }


@dataclass(frozen=True)
class Bundle:
    """Evidence for an agent: each item names its block ID and the commit it was read from."""

    query: str
    commit: str
    facts: tuple[dict[str, Any], ...]
    relations: tuple[dict[str, Any], ...]
    timeline: tuple[dict[str, Any], ...]
    entities: tuple[dict[str, Any], ...]
    mode: str = "bundle"
    subqueries: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "query": self.query,
            "commit": self.commit,
            "subqueries": list(self.subqueries),
            "facts": list(self.facts),
            "relations": list(self.relations),
            "timeline": list(self.timeline),
            "entities": list(self.entities),
        }


Result = Search | Verification | Diagnoses | Bundle


# -- entry point ---------------------------------------------------------------------


def recall(
    memory: Memory,
    query: str,
    *,
    mode: str = "similar",
    limit: int = 10,
    type: str | None = None,
    at: str | None = None,
    all_status: bool = False,
    parts: list[str] | None = None,
    progress: idx.Progress | None = None,
) -> Result:
    """Answer `query` from committed memory (the governed branch, or memory as of `at`: a revision or date).

    `parts` replaces the rule-based split of a multi-part question with given sub-queries; `progress`
    hears (done, total) while the index has to be built or caught up first.
    """
    if mode not in MODES:
        raise BadInput(f"unknown mode '{mode}'; expected one of {', '.join(MODES)}")
    if type is not None and type not in TYPES:
        raise BadInput(f"unknown type '{type}'; expected one of {', '.join(TYPES)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"--limit must be between 1 and {MAX_LIMIT}, not {limit}")
    query = query.strip()
    if not query:
        raise BadInput("the query is empty; say what to look for")
    if len(query) > idx.MAX_QUERY_CHARS:
        raise BadInput(f"query is {len(query)} characters; the limit is {idx.MAX_QUERY_CHARS}")
    hide = () if all_status else HIDDEN_STATUSES
    view = idx.open_view(memory, at, progress)
    ask = Ask(view, limit, (type,) if type else None, hide, tuple(parts) if parts else None)
    if mode == "verify":
        return verify(ask, query)
    if mode == "diagnose":
        return diagnose(ask, query)
    if mode == "bundle":
        return bundle(ask, query)
    if mode == "intent":
        return intent(ask, query)
    return similar(ask, query)


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
    hits, parts = _search(ask, query)
    return Search("similar", query, ask.commit, tuple(hits[: ask.limit]), parts)


def _search(ask: Ask, query: str, for_part: Callable[[str], Ask] | None = None) -> tuple[list[Hit], tuple[str, ...]]:
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

    Splits on ';', '?', sentence ends, 'also', and 'and' before a question word; a plain
    'X and Y' splits too when both sides carry at least two search terms.
    """
    parts = [_LEADING_RE.sub("", p.strip(" ,.")) for p in _SPLIT_RE.split(query)]
    parts = [p for p in parts if idx.query_terms(p)]
    if len(parts) == 1:
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


# -- intent ----------------------------------------------------------------------------


def classify(query: str) -> Intent:
    """The kind of question, by keyword rules; `general` searches every type."""
    best: Intent | None = None
    for label, pattern, types in INTENTS:
        matched = tuple(dict.fromkeys(m.group(0).lower() for m in pattern.finditer(query)))
        if matched and (best is None or len(matched) > len(best.matched)):
            best = Intent(label, types, matched)
    return best or Intent("general", TYPES, ())


def asked_statuses(query: str) -> tuple[str, ...]:
    """The task statuses a question names ("open tasks": todo, doing, blocked), in TASK_STATUSES order."""
    wanted: set[str] = set()
    for pattern, statuses in _STATUS_WORDS:
        if pattern.search(query):
            wanted.update(statuses)
    return tuple(s for s in TASK_STATUSES if s in wanted)


def intent(ask: Ask, query: str) -> Search:
    """Search the types the question is about; each part of a multi-part question gets its own intent."""
    found = classify(query)

    def asked(text: str) -> Ask:
        # An explicit --type wins over the guess.
        return ask if ask.types is not None else replace(ask, types=classify(text).types)

    hits, parts = _search(asked(query), query, asked)
    wanted = asked_statuses(query) if found.label == "task" and ask.types in (None, ("task",)) else ()
    if wanted:
        # "what tasks are open": the state is the question; matching words only order the answer.
        listed = ask.view.listing(("task",), wanted, limit=ask.limit)
        hits = [h for h in hits if h.status in wanted]
        hits += [ask.hit(d) for d in listed if d.id not in {h.id for h in hits}]
    if not hits and ask.types is None and found.types != TYPES:
        hits, parts = _search(ask, query)
        found = replace(found, widened=True)
    if ask.types is not None:
        found = replace(found, types=ask.types)
    parts_found = tuple(classify(p) for p in parts)
    return Search("intent", query, ask.commit, tuple(hits[: ask.limit]), parts, found, parts_found)


# -- verify ----------------------------------------------------------------------------


def verify(ask: Ask, claim: str) -> Verification:
    """Blocks that support the claim and blocks that contradict it, and a verdict.

    supported: support and no contradiction; contradicted: any contradiction (memory disputes
    the claim, or disputes the blocks that support it); unknown: no evidence either way.
    """
    hits, _ = _search(ask, claim)
    hits = hits[: ask.limit]
    docs = ask.view.docs(h.id for h in hits)
    blocks = {i: ask.view.block(d) for i, d in docs.items()}
    supporting: dict[str, Evidence] = {}
    contradicting: dict[str, Evidence] = {}
    for hit in hits:
        stance = _stance(claim, blocks[hit.id])
        if stance is not None:
            side, kind, reason = stance
            (supporting if side == "support" else contradicting)[hit.id] = Evidence(hit, kind, reason)

    # Blocks in conflict with a supporter contradict the claim too.
    if supporting:
        g, near = neighbourhood(ask.view, [docs[i] for i in supporting], depth=1, types=("contradicts",))
        for sid in supporting:
            for other in set(g.successors(sid)) | set(g.predecessors(sid)):
                if other in near and other not in supporting and ask.visible(near[other]):
                    evidence = Evidence(ask.hit(near[other], 0.0), "edge", f"contradicts {sid} (explicit edge)")
                    contradicting.setdefault(other, evidence)
        by_id = {h.id: h for h in hits}
        # The same judgement as `mm check` (checks/contradictions.py), over the blocks found.
        ctx = CheckContext(Snapshot(ask.commit, blocks, {i: d.path for i, d in docs.items()}), root="")
        for sid in list(supporting):
            for oid, other in blocks.items():
                if oid in supporting or oid == sid:
                    continue
                finding = contradictions.judge(ctx, blocks[sid], other)
                if finding is not None:
                    reason = f"{finding.code}: {finding.message} (vs {sid})"
                    contradicting.setdefault(oid, Evidence(by_id[oid], _KINDS.get(finding.code, "check"), reason))
    verdict = "contradicted" if contradicting else "supported" if supporting else "unknown"
    return Verification(
        claim, ask.commit, verdict, _strongest(supporting, ask.limit), _strongest(contradicting, ask.limit)
    )


def _strongest(found: dict[str, Evidence], limit: int) -> tuple[Evidence, ...]:
    return tuple(sorted(found.values(), key=lambda e: (-e.hit.score, e.hit.id))[:limit])


def _stance(claim: str, block: Block) -> tuple[str, str, str] | None:
    """(side, kind, reason) of one block towards a claim; side is support or contradict, None when unrelated.

    Kinds: constraint (the block's constraint and the claim agree or clash), fact (same subject and
    predicate), number (same topic, the claim's number is not the block's), value (same topic, another
    identifier-like value: half_up against half-even), substitution (a block on a subject the claim
    names: the claim names something the block does not and vice versa),
    negation (the claim negates what the block says, or the other way round), text (plain support).
    """
    claim_terms = set(idx.analyze(claim))
    if not claim_terms:
        return None
    negated = bool(_NEGATION_RE.search(claim))
    claim_words = set(_words(claim))
    claim_names = {n for n in idx.entity_terms(claim) if "-" not in n}
    text = f"{block.title}\n{block.body}"
    block_terms = set(idx.analyze(text))
    coverage = len(claim_terms & block_terms) / len(claim_terms)
    on_topic = coverage >= SUPPORT_COVERAGE and (len(claim_terms) == 1 or len(claim_terms & block_terms) >= 2)

    if block.constraint is not None:
        c = block.constraint
        said = f"{c.scope} {c.modality} {c.obj} ({c.axis})"
        about = on_topic or _names_entity(claim_words, c.scope)
        if about and set(_words(c.obj)) <= claim_words:
            agrees = (c.modality in _POSITIVE_MODALITIES) != negated
            return ("support" if agrees else "contradict"), "constraint", said
        # The block's own entities (subject, scope, linked people and projects) are not alternatives.
        own = {w for e in (block.subject, c.scope, block.author, *_entities_named(block)) if e for w in _words(e)}
        others = claim_names - own
        if on_topic and c.modality in ("must", "should") and others:
            return "contradict", "constraint", f"{said}; the claim names {', '.join(sorted(others))}"
    if block.type == "fact" and block.subject and block.predicate and block.obj:
        said = f"{block.subject} {block.predicate} {block.obj}"
        if block.valid_to and block.valid_to <= date.today().isoformat():
            return None  # what held until then: history, not a statement about now
        if not set(idx.analyze(block.predicate.replace("_", " "))) <= claim_terms:
            # Another attribute of the subject (or another subject's): no evidence either way.
            return None
        if _names_entity(claim_words, block.subject):
            if set(_words(block.obj)) <= claim_words:
                return ("contradict", "negation", said) if negated else ("support", "fact", said)
            return "contradict", "fact", f"{said}; the claim says otherwise"
    if not on_topic or not _same_subject(claim_words, block):
        return None
    sentence = _best_sentence(claim_terms, block)
    claim_numbers = set(_NUMBER_RE.findall(claim))
    if claim_numbers and not claim_numbers & set(_NUMBER_RE.findall(text)):
        # Same topic, other numbers: the block says another amount; with no number it says none at all.
        said = set(_NUMBER_RE.findall(sentence))
        if said:
            return "contradict", "number", f"the block says {', '.join(sorted(said))}: {sentence.strip()[:160]}"
        return None
    claim_values, block_values = _values(claim), _values(text)
    if claim_values - block_values and block_values - claim_values:
        # A setting named like an identifier (half_up, half-even, us-east-1) that the block gives otherwise.
        return "contradict", "value", f"the block says {', '.join(sorted(block_values - claim_values))}"
    novel = claim_names - set(_words(text))
    missing = {n for n in idx.entity_terms(text) if "-" not in n} - claim_words
    if novel and missing and block.subject and block.type != "entity":
        names = f"the claim names {', '.join(sorted(novel))}, the block {', '.join(sorted(missing))}"
        return "contradict", "substitution", names
    if bool(_NEGATION_RE.search(sentence)) != negated:
        return "contradict", "negation", f"the block says: {sentence.strip()[:160]}"
    return "support", "text", f"mentions {', '.join(sorted(claim_terms & block_terms))}"


def _same_subject(claim_words: set[str], block: Block) -> bool:
    """Can the block speak to the claim: it has no subject, or the claim names it (a fact about another
    project that shares the claim's words is neither support nor contradiction)."""
    about = block.id if block.type == "entity" else block.subject
    return not about or _names_entity(claim_words, about)


def _values(text: str) -> set[str]:
    """Identifier-like values in text (half_up, half-even, us-east-1), `-` read as `_`; block IDs left out."""
    ids = {i.lower() for i in ID_IN_TEXT_RE.findall(text)}
    found = (v.lower() for v in _VALUE_RE.findall(text))
    return {v.replace("-", "_") for v in found if v not in ids and not v[0].isdigit()}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _names_entity(claim_words: set[str], entity: str) -> bool:
    """Does the claim name `entity`, by ID or by the words of its slug (PRJ-billing: billing)?"""
    prefix, _, slug = entity.partition("-")
    words = _words(slug if prefix in _ENTITY_PREFIXES else entity)
    return bool(words) and set(words) <= claim_words


def _best_sentence(terms: set[str], block: Block) -> str:
    sentences = [block.title, *re.split(r"(?<=[.!?])\s+|\n+", block.body)]
    return max(sentences, key=lambda s: len(terms & set(idx.analyze(s))))


# -- diagnose --------------------------------------------------------------------------


def diagnose(ask: Ask, problem: str) -> Diagnoses:
    """Incidents and tasks matching a problem, each with its causes, fixes and tests from the graph."""
    types = ask.types or ("incident", "task")
    hits, _ = _search(replace(ask, types=types), problem)
    hits = hits[: ask.limit]
    docs = ask.view.docs(h.id for h in hits)
    g, near = neighbourhood(ask.view, docs.values(), depth=2, types=DIAGNOSE_EDGES)
    found = []
    for hit in hits:
        buckets: dict[str, list[Linked]] = {"causes": [], "fixes": [], "tests": [], "related": []}
        for hop in graph.expand(g, hit.id, depth=2, types=DIAGNOSE_EDGES):
            doc = near.get(hop.node.id)
            if doc is None or doc.status in ask.hide:
                continue
            edge = hop.via
            item = Linked(ask.hit(doc, 0.0), edge.type, edge.source, edge.target, hop.depth)
            forward = edge.target == doc.id
            if edge.type == "tested_by":
                buckets["tests"].append(item)
            elif forward:
                buckets["causes"].append(item)
            elif doc.type in ("task", "decision"):
                buckets["fixes"].append(item)
            else:
                buckets["related"].append(item)
        found.append(Diagnosis(hit, **{k: tuple(v) for k, v in buckets.items()}))
    return Diagnoses(problem, ask.commit, tuple(found))


# -- bundle ----------------------------------------------------------------------------


def bundle(ask: Ask, query: str) -> Bundle:
    """The evidence bundle: the blocks found (facts), their typed edges (relations), their dates in
    order (timeline) and the entities they name (entities); each item cites block ID and commit."""
    hits, parts = _search(ask, query)
    hits = hits[: ask.limit]
    docs = ask.view.docs(h.id for h in hits)
    g, near = neighbourhood(ask.view, docs.values(), depth=1)
    blocks = {h.id: ask.view.block(docs[h.id]) for h in hits}
    commit = ask.commit

    facts = tuple({**h.to_json(), **_statement(blocks[h.id])} for h in hits)
    relations = tuple(
        {
            "source": u,
            "type": t,
            "target": v,
            "source_title": near[u].title if u in near else None,
            "target_title": near[v].title if v in near else None,
            "commit": commit,
        }
        for u, v, t in sorted(g.edges(keys=True))
        if u in blocks or v in blocks
    )
    events = []
    for block in blocks.values():
        for key in ("created", "valid_from", "valid_to", "due", "expires"):
            value = getattr(block, key)
            if value:
                events.append({"date": value, "event": key, "id": block.id, "title": block.title, "commit": commit})
    timeline = tuple(sorted(events, key=lambda e: (idx.utc(e["date"]), e["id"], e["event"])))

    mentioned: dict[str, list[str]] = {}
    for block in blocks.values():
        for entity in _entities_named(block):
            mentioned.setdefault(entity, []).append(block.id)
    entity_docs = ask.view.docs(mentioned)
    entities = tuple(
        {
            "id": entity,
            "title": entity_docs[entity].title if entity in entity_docs else None,
            "mentioned_by": sorted(set(by) - {entity}),
            "commit": commit,
        }
        for entity, by in sorted(mentioned.items())
    )
    return Bundle(query, commit, facts, relations, timeline, entities, subqueries=parts)


def _statement(block: Block) -> dict[str, Any]:
    """The claim a block makes, in one line, plus its structured parts when it has them."""
    out: dict[str, Any] = {"created": block.created}
    if block.subject and block.predicate and block.obj:
        out["statement"] = f"{block.subject} {block.predicate} {block.obj}"
        out.update(subject=block.subject, predicate=block.predicate, object=block.obj)
    elif block.constraint is not None:
        c = block.constraint
        out["statement"] = f"{c.scope} {c.modality} {c.obj} ({c.axis})"
        out["constraint"] = c.to_mapping()
    else:
        out["statement"] = block.title
    out["text"] = block.body[:500]
    return out


def _entities_named(block: Block) -> list[str]:
    """Entity IDs a block names: itself if an entity, its subject and scope, edge targets, IDs in its body."""
    found = [block.id] if block.type == "entity" else []
    if block.subject:
        found.append(block.subject)
    if block.constraint is not None:
        found.append(block.constraint.scope)
    found += [t for _, t in block.all_edges()]
    found += ID_IN_TEXT_RE.findall(f"{block.title}\n{block.body}")
    return [e for e in dict.fromkeys(found) if e.split("-", 1)[0] in _ENTITY_PREFIXES]
