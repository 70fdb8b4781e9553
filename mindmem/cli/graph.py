"""Graph commands: `mm graph expand|path|impact|contradict|export` and `mm truth`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

from mindmem.cli.app import AtOpt, JsonOpt, app, echo, memory, print_json
from mindmem.cli.commands import Argument, Group, Option
from mindmem.errors import BadInput

if TYPE_CHECKING:
    import networkx as nx

    from mindmem.search.graph import Edge, Hop, Node

graph_app = Group(
    name="graph",
    help=(
        "Walk the typed graph of memory blocks (7 edge types; body [[wiki links]] count as relates_to).\n\n"
        "Every command reads the work tree, or a revision with --at."
    ),
)
app.add_group(graph_app)

TypesOpt = Annotated[
    Optional[list[str]],
    Option(
        "--types",
        help="Only these edge types, comma-separated or repeated (cites, derived_from, depends_on, "
        "tested_by, supersedes, contradicts, relates_to).",
        show_default=False,
    ),
]
IdArg = Annotated[str, Argument(metavar="ID", help="Block ID, e.g. D-20261125-7f3a9c or PER-alice.")]


def _graph(at: str | None) -> nx.MultiDiGraph:
    from mindmem.search.graph import build_graph

    return build_graph(memory().snapshot(at))


def _split_types(types: list[str] | None) -> list[str] | None:
    if types is None:
        return None
    return [t.strip() for item in types for t in item.split(",") if t.strip()]


def _describe(n: Node) -> str:
    if n.dangling:
        return f"{n.id:<20} {'?':<9} {'dangling':<10} (no such block)"
    return f"{n.id:<20} {n.type:<9} {n.status:<10} {n.title}"


def _arrow(edge: Edge, towards: str) -> str:
    """The edge drawn from the node we came from to `towards`, pointing the way it was written."""
    return f"-{edge.type}->" if edge.target == towards else f"<-{edge.type}-"


def _show_hops(g: nx.MultiDiGraph, block_id: str, hops: list[Hop], as_json: bool) -> None:
    from mindmem.search.graph import node

    start = node(g, block_id)
    if as_json:
        print_json({"start": start.to_json(), "commit": g.graph["commit"], "hops": [h.to_json() for h in hops]})
        return
    echo(_describe(start))
    for hop in hops:
        came_from = hop.via.source if hop.via.target == hop.node.id else hop.via.target
        via = "" if came_from == start.id else f"  (via {came_from})"
        echo(f"  {hop.depth}  {_arrow(hop.via, hop.node.id):<16} {_describe(hop.node)}{via}")
    if not hops:
        echo("  (nothing reached)")


@graph_app.command()
def expand(
    block_id: IdArg,
    depth: Annotated[int, Option("--depth", "-d", min=0, help="How many hops to follow.")] = 1,
    types: TypesOpt = None,
    direction: Annotated[str, Option(help="both, out (edges it wrote) or in (edges pointing at it).")] = "both",
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The neighbourhood of a block: every block within --depth hops, with the edge that reached it.

    Edges are followed both ways unless --direction says otherwise. Targets that
    name no block are shown as dangling.

    \b
    Example:
      mm graph expand D-20261125-7f3a9c
      mm graph expand PRJ-billing --depth 2 --types cites,depends_on --json
      mm graph expand F-20261120-aa10f3 --direction in --at HEAD~3
    """
    from mindmem.search.graph import expand as run

    g = _graph(at)
    _show_hops(g, block_id, run(g, block_id, depth, _split_types(types), direction), as_json)


@graph_app.command()
def path(
    a: Annotated[str, Argument(metavar="FROM", help="Block ID to start from.")],
    b: Annotated[str, Argument(metavar="TO", help="Block ID to reach.")],
    types: TypesOpt = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A shortest chain of edges between two blocks, whichever way the edges point.

    Exits 0 either way; when the blocks are not connected it says so (JSON: "path": null).

    \b
    Example:
      mm graph path D-20261125-7f3a9c TOOL-postgres
      mm graph path I-20261201-0b1c2d T-20261202-9e8f7a --types depends_on,tested_by --json
    """
    from mindmem.search.graph import path as run

    g = _graph(at)
    found = run(g, a, b, _split_types(types))
    if as_json:
        print_json({"from": a, "to": b, "commit": g.graph["commit"], "path": found.to_json() if found else None})
        return
    if found is None:
        echo(f"no path between {a} and {b}")
        return
    echo(_describe(found.nodes[0]))
    for edge, n in zip(found.edges, found.nodes[1:], strict=True):
        echo(f"  {_arrow(edge, n.id)}")
        echo(_describe(n))


@graph_app.command()
def impact(
    block_id: IdArg,
    types: TypesOpt = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Everything that rests on a block, transitively: what would be affected if it changed or went away.

    Follows cites, depends_on, derived_from and tested_by edges backwards (a
    block tested_by T loses its evidence when T changes). --types narrows or
    widens the set.

    \b
    Example:
      mm graph impact F-20261120-aa10f3
      mm graph impact TOOL-postgres --types depends_on --json
    """
    from mindmem.search.graph import impact as run

    g = _graph(at)
    _show_hops(g, block_id, run(g, block_id, _split_types(types)), as_json)


@graph_app.command()
def contradict(at: AtOpt = None, as_json: JsonOpt = False) -> None:
    """Active blocks joined by an explicit `contradicts` edge, and the clusters they form.

    A read, not a gate: it exits 0. `mm check` decides what a contradiction blocks.

    \b
    Example:
      mm graph contradict
      mm graph contradict --at v1.2 --json
    """
    from mindmem.search.conflicts import contradictions
    from mindmem.search.graph import node

    g = _graph(at)
    found = contradictions(g, memory().settings.sections.get("checks", {}))
    if as_json:
        print_json({"commit": g.graph["commit"], **found.to_json()})
        return
    if not found.pairs:
        echo("no contradictions between active blocks")
        return
    for number, cluster in enumerate(found.clusters, 1):
        echo(f"cluster {number}:")
        for block_id in cluster:
            echo(f"  {_describe(node(g, block_id))}")
        for x, y in found.pairs:
            if x in cluster:
                echo(f"  {x} contradicts {y}")


@graph_app.command()
def export(
    fmt: Annotated[str, Option("--format", "-f", help="dot, graphml or json (node-link).")] = "dot",
    output: Annotated[
        Optional[Path], Option("--output", "-o", help="Write to this file (atomically) instead of stdout.")
    ] = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The whole graph for other tools: Graphviz dot, GraphML or node-link JSON.

    Nodes carry type, title, status and dangling; edges carry their type. With
    --output the file is replaced in one step, never left half-written, and
    --json prints a report of what was written.

    \b
    Example:
      mm graph export | dot -Tsvg > memory.svg
      mm graph export --format graphml --output memory.graphml
      mm graph export --format json --at v1.2 --output old.json --json
    """
    from mindmem.search.graph import export as run
    from mindmem.store.files import atomic_write

    if as_json and output is None:
        raise BadInput("--json reports on a file written with --output; for the graph as JSON use --format json")
    g = _graph(at)
    text = run(g, fmt)
    if output is None:
        echo(text, nl=False)
        return
    atomic_write(output, text.encode())
    report = {
        "format": fmt,
        "output": str(output),
        "commit": g.graph["commit"],
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
    }
    if as_json:
        print_json(report)
    else:
        echo(f"wrote {report['nodes']} nodes and {report['edges']} edges to {output} ({fmt})")


@app.command()
def truth(
    subject: Annotated[str, Argument(metavar="SUBJECT", help="An entity ID (PRJ-billing) or a block's subject value.")],
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The compiled truth about a subject: its current blocks once supersedes are applied, newest first.

    A block is about SUBJECT when its subject or constraint scope is SUBJECT, when
    it is SUBJECT, or when it links to it. Superseded and revoked blocks appear only
    in the chain of what each current block replaced.

    \b
    Example:
      mm truth PRJ-billing
      mm truth PER-alice --at HEAD~5 --json
    """
    from mindmem.search.graph import compiled_truth

    result = compiled_truth(memory().snapshot(at), subject)
    if as_json:
        print_json(result.to_json())
        return
    where = result.commit[:12] if result.commit else "the work tree"
    echo(f"{subject}: {len(result.entries)} current block(s) in {where}")
    for entry in result.entries:
        blk = entry.block
        echo(f"{blk.id:<20} {blk.type:<9} {blk.status:<10} {blk.created[:10]}  {blk.title}")
        for old in entry.replaced:
            echo(f"    replaced {_describe(old.node)}  (by {old.by})")
