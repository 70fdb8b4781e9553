"""Graph family (MM-G): dangling edges, supersede cycles, supersede/status disagreements, self links.

Unlike mindmem/search/graph.py (the networkx graph), these checks need only each block's own
edges and the reverse index on the context.
"""

from __future__ import annotations

from collections.abc import Iterator

from mindmem.checks.context import CheckContext
from mindmem.checks.findings import Edit, Finding
from mindmem.store.blocks import id_relpath

# Statuses that take a block out of the current truth (tasks have their own lifecycle and are left out).
RETIRED = ("superseded", "revoked")


def check(ctx: CheckContext) -> Iterator[Finding]:
    yield from _dangling(ctx)
    yield from _cycles(ctx)
    yield from _supersede_status(ctx)


def _dangling(ctx: CheckContext) -> Iterator[Finding]:
    for block in ctx.focus:
        explicit = {(t, x) for t, xs in block.edges for x in xs}
        for edge_type, target in block.all_edges():
            if target == block.id:
                yield Finding(
                    "MM-G004",
                    "info",
                    f"{block.id} links to itself with [[{target}]]",
                    (block.id,),
                    ctx.path_of(block.id),
                    ctx.line_of(block.id, f"[[{target}]]", start=False),
                    fix=f"remove [[{target}]] from the body",
                )
            elif target not in ctx.catalog:
                yield _dangling_finding(ctx, block.id, edge_type, target, (edge_type, target) in explicit)
    # Blocks deleted by the change: whoever still points at them now dangles. A block whose
    # file no longer parses is not gone: the schema finding says what is wrong with it.
    broken = {problem.path for problem in ctx.problems}
    for gone in sorted(ctx.touched or ()):
        if gone in ctx.catalog or f"{ctx.root}/{id_relpath(gone)}" in broken:
            continue
        for source, edge_type in ctx.incoming.get(gone, ()):
            if source in ctx.blocks and (ctx.touched is None or source not in ctx.touched):
                explicit = gone in ctx.blocks[source].targets(edge_type)
                yield _dangling_finding(ctx, source, edge_type, gone, explicit, deleted=True)


def _dangling_finding(
    ctx: CheckContext, source: str, edge_type: str, target: str, explicit: bool, deleted: bool = False
) -> Finding:
    why = "was deleted by this change" if deleted else "does not exist"
    if explicit:
        return Finding(
            "MM-G001",
            "warning",
            f"{source} has `{edge_type}: {target}` but {target} {why}",
            (source, target),
            ctx.path_of(source),
            ctx.line_of(source, target, start=False),
            fix=f"create {target}, point the edge at the right block, or remove it",
            edits=(Edit(source, "remove_edge", edge=edge_type, target=target),),
        )
    return Finding(
        "MM-G005",
        "info",
        f"{source} links to [[{target}]] in its body but {target} {why}",
        (source, target),
        ctx.path_of(source),
        ctx.line_of(source, f"[[{target}]]", start=False),
        fix=f"create {target} or correct the link",
    )


def _cycles(ctx: CheckContext) -> Iterator[Finding]:
    """A chain of `supersedes` that comes back to where it started: no block in it can be current."""
    reported: set[tuple[str, ...]] = set()
    for block in ctx.focus:
        cycle = _cycle_through(ctx, block.id)
        if cycle is None:
            continue
        key = tuple(sorted(cycle))
        if key in reported:
            continue
        reported.add(key)
        chain = " -> ".join([*cycle, cycle[0]])
        yield Finding(
            "MM-G002",
            "critical",
            f"supersede cycle: {chain}",
            key,
            ctx.path_of(cycle[0]),
            ctx.line_of(cycle[0], "  supersedes:"),
            fix=f"decide which block is current and remove its `supersedes` edge (from {cycle[-1]} to {cycle[0]})",
            edits=(Edit(cycle[-1], "remove_edge", edge="supersedes", target=cycle[0]),),
        )


def _cycle_through(ctx: CheckContext, start: str) -> list[str] | None:
    """The supersedes path start -> ... -> start, if there is one (depth-first, iterative)."""
    stack = [(start, [start])]
    seen = {start}
    while stack:
        current, path = stack.pop()
        block = ctx.blocks.get(current)
        if block is None:
            continue
        for target in block.targets("supersedes"):
            if target == start:
                return path
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def _supersede_status(ctx: CheckContext) -> Iterator[Finding]:
    pairs: set[tuple[str, str]] = set()
    for block in ctx.focus:
        if block.status != "revoked":
            pairs.update((block.id, old) for old in block.targets("supersedes"))
        pairs.update((src, block.id) for src, t in ctx.incoming.get(block.id, ()) if t == "supersedes")
    for new_id, old_id in sorted(pairs):
        new, old = ctx.blocks.get(new_id), ctx.blocks.get(old_id)
        if new is None or old is None or new.status == "revoked" or old.type == "task":
            continue
        if old.status == "active":
            yield Finding(
                "MM-G003",
                "warning",
                f"{new_id} supersedes {old_id}, but {old_id} is still active",
                (new_id, old_id),
                ctx.path_of(old_id),
                ctx.line_of(old_id, "status:"),
                fix=f"set status of {old_id} to superseded",
                edits=(Edit(old_id, "set_status", status="superseded"),),
            )
    for block in ctx.focus:
        if block.status == "superseded" and not any(t == "supersedes" for _, t in ctx.incoming.get(block.id, ())):
            yield Finding(
                "MM-G006",
                "info",
                f"{block.id} is superseded, but no block supersedes it",
                (block.id,),
                ctx.path_of(block.id),
                ctx.line_of(block.id, "status:"),
                fix=f"add `supersedes: [{block.id}]` to its successor, or set its status to revoked",
            )
