"""What recall answers: one frozen dataclass per kind of result, each serialising itself to JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    # Blocks on the claim's topic that neither agree nor disagree with what it asserts.
    related: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "query": self.query,
            "commit": self.commit,
            "verdict": self.verdict,
            "supporting": [e.to_json() for e in self.supporting],
            "contradicting": [e.to_json() for e in self.contradicting],
            "related": [e.to_json() for e in self.related],
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
