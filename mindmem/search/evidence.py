"""Diagnose and bundle: a problem's incidents and tasks with their causes, fixes and tests from the
graph; and an evidence bundle (facts, relations, timeline, entities) for an agent to cite."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mindmem.search import graph
from mindmem.search import index as idx
from mindmem.search.ranked import Ask, neighbourhood, search
from mindmem.search.results import Bundle, Diagnoses, Diagnosis, Linked
from mindmem.store.blocks import ID_IN_TEXT_RE, TYPE_PREFIXES, Block

DIAGNOSE_EDGES = ("depends_on", "derived_from", "tested_by")
_ENTITY_PREFIXES = TYPE_PREFIXES["entity"]


def diagnose(ask: Ask, problem: str) -> Diagnoses:
    """Incidents and tasks matching a problem, each with its causes, fixes and tests from the graph."""
    types = ask.types or ("incident", "task")
    hits, _ = search(replace(ask, types=types), problem)
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
    hits, parts = search(ask, query)
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
        for entity in entities_named(block):
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


def entities_named(block: Block) -> list[str]:
    """Entity IDs a block names: itself if an entity, its subject and scope, edge targets, IDs in its body."""
    found = [block.id] if block.type == "entity" else []
    if block.subject:
        found.append(block.subject)
    if block.constraint is not None:
        found.append(block.constraint.scope)
    found += [t for _, t in block.all_edges()]
    found += ID_IN_TEXT_RE.findall(f"{block.title}\n{block.body}")
    return [e for e in dict.fromkeys(found) if e.split("-", 1)[0] in _ENTITY_PREFIXES]
