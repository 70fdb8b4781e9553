"""The typed graph of the blocks at one point in time, and the questions asked of it.

`build_graph` turns a Snapshot into a networkx MultiDiGraph: one node per block ID
(node attribute `block`), one edge per typed link with key and attribute `type`.
Targets that name no block in the snapshot are nodes too, with `block=None` and
`dangling=True`, so a broken link is visible instead of silently dropped.

Every answer is a frozen dataclass with `to_json()`, so the CLI and MCP print the same thing.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from mindmem.errors import BadInput, NotFound
from mindmem.jsonable import Jsonable
from mindmem.store.blocks import EDGE_TYPES, Block
from mindmem.store.snapshot import Snapshot

# A block is out of the current truth when it has one of these statuses.
RETIRED = ("superseded", "revoked")
# Edges whose source rests on its target: when the target changes or goes away, the source is affected.
# tested_by counts: `X tested_by T` means T is X's evidence, so X is affected when T changes, like a citation.
IMPACT_TYPES = ("cites", "depends_on", "derived_from", "tested_by")
EXPORT_FORMATS = ("dot", "graphml", "json")
DIRECTIONS = ("both", "out", "in")


@dataclass(frozen=True)
class Edge(Jsonable):
    """One typed link, always in its written direction: `source` lists `target` under `type`."""

    source: str
    target: str
    type: str


@dataclass(frozen=True)
class Node(Jsonable):
    """What the graph knows about one ID; `dangling` when no block has it."""

    id: str
    type: str | None
    title: str | None
    status: str | None
    dangling: bool


@dataclass(frozen=True)
class Hop:
    """A node reached by a walk: how many hops away and the edge that first reached it."""

    node: Node
    depth: int
    via: Edge

    def to_json(self) -> dict[str, Any]:
        return {**self.node.to_json(), "depth": self.depth, "via": self.via.to_json()}


@dataclass(frozen=True)
class GraphPath(Jsonable):
    """A shortest path ignoring direction; `edges[i]` joins `nodes[i]` and `nodes[i + 1]` (either way round)."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


@dataclass(frozen=True)
class Replaced:
    """A block that a truth entry replaced, directly or through a chain; `by` is the block that superseded it."""

    node: Node
    by: str

    def to_json(self) -> dict[str, Any]:
        return {**self.node.to_json(), "by": self.by}


@dataclass(frozen=True)
class TruthEntry:
    block: Block
    replaced: tuple[Replaced, ...]

    def to_json(self) -> dict[str, Any]:
        return {**self.block.to_json(), "replaced": [r.to_json() for r in self.replaced]}


@dataclass(frozen=True)
class Truth(Jsonable):
    """The current blocks about `subject`, newest first, at `commit` (None = work tree)."""

    subject: str
    commit: str | None
    entries: tuple[TruthEntry, ...]


# -- building -----------------------------------------------------------------


def build_graph(snapshot: Snapshot) -> nx.MultiDiGraph:
    """The graph of every block in `snapshot`; body wiki links count as `relates_to`."""
    g = nx.MultiDiGraph(commit=snapshot.commit)
    for block_id, block in snapshot.blocks.items():
        g.add_node(block_id, block=block, dangling=False)
    for block_id, block in snapshot.blocks.items():
        for edge_type, target in block.all_edges():
            if target not in g:
                g.add_node(target, block=None, dangling=True)
            g.add_edge(block_id, target, key=edge_type, type=edge_type)
    return g


def node(g: nx.MultiDiGraph, block_id: str) -> Node:
    """The node for an ID in the graph; NotFound if no block has it and nothing links to it."""
    if block_id not in g:
        raise NotFound(f"no block {block_id} in the graph{_where(g)}")
    block = g.nodes[block_id]["block"]
    if block is None:
        return Node(block_id, None, None, None, True)
    return Node(block_id, block.type, block.title, block.status, False)


# -- walks --------------------------------------------------------------------


def expand(
    g: nx.MultiDiGraph,
    block_id: str,
    depth: int = 1,
    types: Iterable[str] | None = None,
    direction: str = "both",
) -> list[Hop]:
    """The neighbourhood of a block up to `depth` hops, following edges both ways (or only `out`/`in`).

    Breadth first, so each node appears once with its shortest hop count. The start is not listed.
    A block whose `subject` is a node counts as relating to it here (walking from an entity finds
    what is about it), though it is not an edge of the graph.
    """
    if direction not in DIRECTIONS:
        raise BadInput(f"direction '{direction}' is not one of {', '.join(DIRECTIONS)}")
    about: dict[str, list[str]] = {}
    for other, data in g.nodes(data=True):
        subject = data["block"].subject if data["block"] is not None else None
        if subject and subject != other:
            about.setdefault(subject, []).append(other)
    out, inward = direction != "in", direction != "out"
    return list(_walk(g, block_id, depth, _types(types), out=out, inward=inward, about=about))


def impact(g: nx.MultiDiGraph, block_id: str, types: Iterable[str] | None = None) -> list[Hop]:
    """Everything that rests on a block, transitively: the sources of IMPACT_TYPES edges into it, and so on."""
    return list(_walk(g, block_id, None, _types(types) if types is not None else set(IMPACT_TYPES), False, True))


def path(g: nx.MultiDiGraph, a: str, b: str, types: Iterable[str] | None = None) -> GraphPath | None:
    """A shortest path between two blocks ignoring edge direction, or None if they are not connected.

    Bidirectional breadth-first search, one whole level at a time from the smaller side, so only
    the neighbourhoods of the two ends are visited, not the whole component. Among equally short
    paths the one through the lowest meeting ID wins, so the answer is stable.
    """
    node(g, a)
    node(g, b)
    allowed = _types(types)
    # Per side: node -> (hops from that side's end, edge to the node it was reached from).
    seen: tuple[dict[str, tuple[int, Edge | None]], ...] = ({a: (0, None)}, {b: (0, None)})
    frontiers = [[a], [b]]
    meets = [a] if a == b else []
    while not meets and frontiers[0] and frontiers[1]:
        side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        mine, theirs = seen[side], seen[1 - side]
        reached: list[str] = []
        for current in frontiers[side]:
            dist = mine[current][0] + 1
            for edge in _steps(g, current, allowed, True, True):
                other = _other(edge, current)
                if other not in mine:
                    mine[other] = (dist, edge)
                    reached.append(other)
        frontiers[side] = reached
        meets = [n for n in reached if n in theirs]
    if not meets:
        return None
    meet = min(meets, key=lambda n: (seen[0][n][0] + seen[1][n][0], n))
    ids, edges = _trace(seen[0], meet)
    ids.reverse()
    edges.reverse()
    tail_ids, tail_edges = _trace(seen[1], meet)
    ids += tail_ids[1:]
    edges += tail_edges
    return GraphPath(tuple(node(g, i) for i in ids), tuple(edges))


def _trace(seen: dict[str, tuple[int, Edge | None]], start: str) -> tuple[list[str], list[Edge]]:
    """Nodes and edges from `start` back to the end its search began at."""
    ids, edges = [start], []
    edge = seen[start][1]
    while edge is not None:
        edges.append(edge)
        ids.append(_other(edge, ids[-1]))
        edge = seen[ids[-1]][1]
    return ids, edges


def _walk(
    g: nx.MultiDiGraph,
    start: str,
    depth: int | None,
    types: set[str],
    out: bool,
    inward: bool,
    about: Mapping[str, list[str]] | None = None,
) -> Iterator[Hop]:
    """Breadth-first walk from `start` over edges of `types`, yielding each newly reached node once.
    `about` (subject -> blocks about it) adds those blocks as `relates_to` into the subject.

    Neighbours are visited in ID order so answers are stable across runs.
    """
    node(g, start)
    if depth is not None and depth < 0:
        raise BadInput(f"depth must be 0 or more, not {depth}")
    seen = {start}
    queue = deque([(start, 0)])
    while queue:
        current, dist = queue.popleft()
        if depth is not None and dist >= depth:
            continue
        steps = _steps(g, current, types, out, inward)
        if about is not None and "relates_to" in types:
            steps += _about_steps(g, current, about, out, inward)
        for edge in sorted(steps, key=lambda e: (_other(e, current), EDGE_TYPES.index(e.type))):
            other = _other(edge, current)
            if other in seen:
                continue
            seen.add(other)
            queue.append((other, dist + 1))
            yield Hop(node(g, other), dist + 1, edge)


def _about_steps(
    g: nx.MultiDiGraph, current: str, about: Mapping[str, list[str]], out: bool, inward: bool
) -> list[Edge]:
    """`subject` links as relates_to steps: from a block to its subject, into a subject from its blocks."""
    steps = [Edge(u, current, "relates_to") for u in about.get(current, ())] if inward else []
    block = g.nodes[current]["block"]
    if out and block is not None and block.subject in g and block.subject != current:
        steps.append(Edge(current, block.subject, "relates_to"))
    return steps


def _steps(g: nx.MultiDiGraph, current: str, types: set[str], out: bool, inward: bool) -> list[Edge]:
    """The edges of `types` leaving (`out`) and entering (`inward`) a node, as written."""
    steps: list[Edge] = []
    if out:
        steps += [Edge(current, v, t) for v, keys in g.succ[current].items() for t in keys if t in types]
    if inward:
        steps += [Edge(u, current, t) for u, keys in g.pred[current].items() for t in keys if t in types]
    return steps


def _other(edge: Edge, current: str) -> str:
    return edge.source if edge.target == current else edge.target


def _types(types: Iterable[str] | None) -> set[str]:
    if types is None:
        return set(EDGE_TYPES)
    chosen = set(types)
    unknown = sorted(chosen - set(EDGE_TYPES))
    if unknown:
        raise BadInput(f"unknown edge type '{unknown[0]}'; expected one of {', '.join(EDGE_TYPES)}")
    return chosen


# -- export -------------------------------------------------------------------


def export(g: nx.MultiDiGraph, fmt: str) -> str:
    """The graph as text: Graphviz `dot`, `graphml`, or networkx node-link `json`."""
    if fmt not in EXPORT_FORMATS:
        raise BadInput(f"unknown export format '{fmt}'; expected one of {', '.join(EXPORT_FORMATS)}")
    flat = _flat(g)
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(flat)) + "\n"
    if fmt == "json":
        return json.dumps(nx.node_link_data(flat, edges="edges"), indent=2, ensure_ascii=False) + "\n"
    return _dot(flat)


def _flat(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy with only string/bool attributes, which every export format can hold."""
    flat = nx.MultiDiGraph()
    if g.graph.get("commit"):
        flat.graph["commit"] = g.graph["commit"]
    for block_id in g:
        n = node(g, block_id)
        attrs = {"type": n.type, "title": n.title, "status": n.status}
        flat.add_node(block_id, dangling=n.dangling, **{k: v for k, v in attrs.items() if v is not None})
    for u, v, t in g.edges(keys=True):
        flat.add_edge(u, v, key=t, type=t)
    return flat


def _dot(flat: nx.MultiDiGraph) -> str:
    # IDs match ID_RE, so only titles need escaping inside DOT quoted strings.
    lines = ["digraph mindmem {", "  node [shape=box];"]
    for block_id, attrs in flat.nodes(data=True):
        if attrs["dangling"]:
            lines.append(f'  "{block_id}" [label="{block_id}", style=dashed];')
        else:
            lines.append(f'  "{block_id}" [label="{block_id}\\n{_dot_escape(attrs["title"])}"];')
    for u, v, t in flat.edges(keys=True):
        lines.append(f'  "{u}" -> "{v}" [label="{t}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_escape(text: str) -> str:
    """Text for inside a DOT quoted string: a title's backslashes and quotes stay literal."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


# -- compiled truth -----------------------------------------------------------


def compiled_truth(snapshot: Snapshot, subject: str) -> Truth:
    """The current blocks about `subject` once supersedes are applied, newest first.

    A block is about the subject when its `subject` field or constraint scope is the subject,
    when it is the subject itself (an entity), or when one of its edges or wiki links points at it.
    A block that was superseded is replaced by the current block(s) that superseded it, even if
    those do not name the subject. Each entry carries the chain of blocks it replaced.
    NotFound when nothing at all is about the subject.
    """
    superseders: dict[str, list[str]] = {}
    for block in snapshot.blocks.values():
        if block.status != "revoked":
            for target in block.targets("supersedes"):
                superseders.setdefault(target, []).append(block.id)

    about = [b for b in snapshot.blocks.values() if _is_about(b, subject)]
    if not about:
        raise NotFound(f"no block is about '{subject}'{' at ' + snapshot.commit[:12] if snapshot.commit else ''}")

    current: dict[str, Block] = {}
    for block in about:
        for head in _heads(snapshot, superseders, block.id):
            current[head.id] = head
    entries = [TruthEntry(b, _chain(snapshot, b)) for b in current.values()]
    entries.sort(key=lambda e: (e.block.created, e.block.id), reverse=True)
    return Truth(subject, snapshot.commit, tuple(entries))


def _is_about(block: Block, subject: str) -> bool:
    if subject in (block.id, block.subject):
        return True
    if block.constraint is not None and block.constraint.scope == subject:
        return True
    return any(target == subject for _, target in block.all_edges())


def _heads(snapshot: Snapshot, superseders: dict[str, list[str]], block_id: str) -> list[Block]:
    """The current blocks that `block_id` resolves to by following `supersedes` backwards (cycle safe)."""
    found: list[Block] = []
    seen = {block_id}
    stack = [block_id]
    while stack:
        current = stack.pop()
        newer = [s for s in superseders.get(current, ()) if s not in seen]
        block = snapshot.blocks[current]
        if not superseders.get(current) and block.status not in RETIRED:
            found.append(block)
        seen.update(newer)
        stack.extend(newer)
    return found


def _chain(snapshot: Snapshot, block: Block) -> tuple[Replaced, ...]:
    """Every block `block` replaced, following `supersedes` transitively, nearest first."""
    out: list[Replaced] = []
    seen = {block.id}
    queue = deque([block])
    while queue:
        current = queue.popleft()
        for target in current.targets("supersedes"):
            if target in seen:
                continue
            seen.add(target)
            old = snapshot.blocks.get(target)
            if old is None:
                out.append(Replaced(Node(target, None, None, None, True), current.id))
                continue
            out.append(Replaced(Node(target, old.type, old.title, old.status, False), current.id))
            queue.append(old)
    return tuple(out)


def _where(g: nx.MultiDiGraph) -> str:
    commit = g.graph.get("commit")
    return f" at {commit[:12]}" if commit else " of the work tree"
