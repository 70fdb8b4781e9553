"""Contradictions in a memory graph, judged once: by `mm check`'s contradiction family.

`mm graph contradict` and MCP `graph contradict` list exactly the pairs `mm check` reports
(MM-C001 … MM-C006 in checks/contradictions.py): explicit `contradicts` edges between active
blocks, clashing constraints, facts with one subject and predicate and different objects,
titles of opposite polarity; never pairs a `supersedes` chain already orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx

from mindmem.checks import contradictions as judgement
from mindmem.checks.context import CheckContext
from mindmem.store.snapshot import Snapshot

if TYPE_CHECKING:
    from mindmem.checks.findings import Finding


@dataclass(frozen=True)
class Contradictions:
    """Pairs of active blocks that cannot both hold, the clusters they form, and why each pair clashes."""

    pairs: tuple[tuple[str, str], ...]
    clusters: tuple[tuple[str, ...], ...]
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "pairs": [list(p) for p in self.pairs],
            "clusters": [list(c) for c in self.clusters],
            "reasons": [
                {"pair": list(f.blocks), "code": f.code, "severity": f.severity, "message": f.message}
                for f in self.findings
            ],
        }


def contradictions(g: nx.MultiDiGraph, options: Mapping[str, Any] | None = None) -> Contradictions:
    """Every contradiction among the blocks of a graph from `graph.build_graph`, as `mm check` judges
    it with the `[checks]` settings `options`."""
    blocks = {i: data["block"] for i, data in g.nodes(data=True) if data["block"] is not None}
    # The judgement needs no file: a path per ID stands in for where each block lives.
    snapshot = Snapshot(g.graph.get("commit"), blocks, {i: f"{i}.md" for i in blocks})
    ctx = CheckContext(snapshot, root="", options=options or {})
    findings = sorted(judgement.conflicts(ctx), key=lambda f: f.blocks)
    pairs = sorted({(f.blocks[0], f.blocks[1]) for f in findings})
    clusters = nx.Graph(pairs)
    return Contradictions(
        tuple(pairs),
        tuple(sorted(tuple(sorted(c)) for c in nx.connected_components(clusters))),
        tuple(findings),
    )
