"""Contradictions family (MM-C): active blocks that cannot both be true.

Signals, strongest first (one finding per pair, the strongest wins):
- MM-C001 an explicit `contradicts` edge between two active blocks;
- MM-C002 constraint signatures on one axis with overlapping scope, one `must` and
  the other `must_not` the same object (critical);
- MM-C003 softer opposite modalities on one object (`must`/`should_not`, `should`/`should_not`,
  `may`/`must_not`);
- MM-C004 two `must` with different objects on one axis;
- MM-C005 facts with the same subject and predicate and different objects over overlapping validity;
- MM-C006 titles that say the same thing with opposite polarity ("Use Redis" / "Avoid Redis");
and, not a contradiction but found the same way:
- MM-C007 two decisions with the same title: one decided twice, or a replacement that does not say
  which one it replaces (recall then answers with both).

Pairs already ordered by `supersedes` (directly or along a chain), pairs with disjoint
validity, and blocks that are not active never conflict. Time-aware: when one block
is newer and covers the same ground, the finding carries the machine fix "newer
supersedes older" instead of only saying no.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from mindmem.checks.catalog import Catalog, Digest, digest, live
from mindmem.checks.context import CheckContext
from mindmem.checks.findings import Edit, Finding
from mindmem.checks.scopes import overlap
from mindmem.checks.wording import norm
from mindmem.store.blocks import Block, Constraint

# Opposite modalities on the same object: (severity, code).
OPPOSED = {
    frozenset({"must", "must_not"}): ("critical", "MM-C002"),
    frozenset({"must", "should_not"}): ("warning", "MM-C003"),
    frozenset({"should", "must_not"}): ("warning", "MM-C003"),
    frozenset({"should", "should_not"}): ("warning", "MM-C003"),
    frozenset({"may", "must_not"}): ("warning", "MM-C003"),
}
STRENGTH = {"MM-C001": 0, "MM-C002": 1, "MM-C003": 2, "MM-C004": 3, "MM-C005": 4, "MM-C006": 5, "MM-C007": 6}


@dataclass(frozen=True)
class _Interval:
    start: date | None
    end: date | None  # exclusive: a block valid_to D hands over to one valid_from D

    def overlaps(self, other: _Interval) -> bool:
        return (self.end is None or other.start is None or other.start < self.end) and (
            other.end is None or self.start is None or self.start < other.end
        )


def _interval(block: Block) -> _Interval:
    return _Interval(
        date.fromisoformat(block.valid_from) if block.valid_from else None,
        date.fromisoformat(block.valid_to) if block.valid_to else None,
    )


def _created(block: Block) -> datetime:
    when = datetime.fromisoformat(block.created)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def scopes_overlap(catalog: Catalog, a: str, b: str) -> bool:
    """Whether two scopes overlap once canonical (`scopes.overlap`)."""
    return overlap(catalog.canon(a), catalog.canon(b))


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The family's findings: contradictions, then duplicate decisions."""
    return _pairs(ctx, lambda a, b: judge(ctx, a, b) or duplicate(ctx, a, b))


def conflicts(ctx: CheckContext) -> Iterator[Finding]:
    """Only the pairs that cannot both hold (what `mm graph contradict` lists)."""
    return _pairs(ctx, lambda a, b: judge(ctx, a, b))


def _pairs(ctx: CheckContext, judged: Callable[[Block, Block], Finding | None]) -> Iterator[Finding]:
    seen: set[frozenset[str]] = set()
    for block in ctx.focus:
        if not live(block):
            continue
        for other_id in sorted(ctx.catalog.candidates(block.id, ctx.incoming)):
            pair = frozenset((block.id, other_id))
            other = ctx.blocks.get(other_id)
            if other is None or pair in seen or not live(other):
                continue
            seen.add(pair)
            finding = judged(block, other)
            if finding is not None and not _ordered_by_supersedes(ctx, block, other):
                yield finding


def judge(ctx: CheckContext, a: Block, b: Block) -> Finding | None:
    """The strongest contradiction between two live blocks, or None."""
    # Messages name the settled block first and the one under review second, whatever order the IDs draw.
    a, b = sorted((a, b), key=lambda block: (ctx.in_scope(block.id), block.created, block.id))
    signals = (_explicit, _constraints, _facts, _titles)
    found = [f for f in (signal(ctx, a, b) for signal in signals) if f]
    if not found or not _interval(a).overlaps(_interval(b)):
        return None
    return min(found, key=lambda f: STRENGTH[f.code])


def _explicit(ctx: CheckContext, a: Block, b: Block) -> Finding | None:
    if b.id in a.targets("contradicts"):
        source, target = a, b
    elif a.id in b.targets("contradicts"):
        source, target = b, a
    else:
        return None
    message = f"{source.id} contradicts {target.id} and both are active"
    return _finding(ctx, "MM-C001", "warning", message, source, target, same_ground=True, edge_on=source)


def _constraints(ctx: CheckContext, a: Block, b: Block) -> Finding | None:
    ca, cb = a.constraint, b.constraint
    if ca is None or cb is None or norm(ca.axis) != norm(cb.axis):
        return None
    if ca.predicate and cb.predicate and norm(ca.predicate) != norm(cb.predicate):
        return None
    if not scopes_overlap(ctx.catalog, ca.scope, cb.scope):
        return None
    same_scope = ctx.catalog.canon(ca.scope) == ctx.catalog.canon(cb.scope)
    same_object = ctx.catalog.canon(ca.obj) == ctx.catalog.canon(cb.obj)
    if same_object and frozenset((ca.modality, cb.modality)) in OPPOSED:
        severity, code = OPPOSED[frozenset((ca.modality, cb.modality))]
        message = f"{_says(a, ca)} but {_says(b, cb)} ({_where(ca, cb)})"
        return _finding(ctx, code, severity, message, a, b, same_ground=same_scope)
    multi_axes = {norm(x) for x in ctx.options.get("multi_valued_axes", ()) if isinstance(x, str)}
    if not same_object and ca.modality == cb.modality == "must" and norm(ca.axis) not in multi_axes:
        message = f"{_says(a, ca)} but {_says(b, cb)}: one axis, two required objects ({_where(ca, cb)})"
        return _finding(ctx, "MM-C004", "warning", message, a, b, same_ground=same_scope)
    return None


def _facts(ctx: CheckContext, a: Block, b: Block) -> Finding | None:
    claim = ctx.catalog.claim(_digest(ctx, a))
    if claim is None or claim != ctx.catalog.claim(_digest(ctx, b)):
        return None
    if ctx.catalog.canon(a.obj or "") == ctx.catalog.canon(b.obj or ""):
        return None
    message = (
        f"{a.id} says {a.subject} {a.predicate} {a.obj!r} but {b.id} says {b.obj!r} for the same time "
        f"({_validity(a)} / {_validity(b)})"
    )
    return _finding(ctx, "MM-C005", "warning", message, a, b, same_ground=True)


def _titles(ctx: CheckContext, a: Block, b: Block) -> Finding | None:
    if a.type != b.type:
        return None
    if a.subject and b.subject and ctx.catalog.canon(a.subject) != ctx.catalog.canon(b.subject):
        return None
    da, db = _digest(ctx, a), _digest(ctx, b)
    if len(da.words) < 2 or da.words != db.words or da.positive == db.positive:
        return None
    message = f"titles say opposite things: {a.id} {a.title!r} / {b.id} {b.title!r}"
    return _finding(ctx, "MM-C006", "warning", message, a, b, same_ground=True)


def duplicate(ctx: CheckContext, a: Block, b: Block) -> Finding | None:
    """MM-C007: two live decisions with one title. Not a contradiction (both can hold, so `judge` and
    recall's verify leave it out), but memory then answers one question twice."""
    # Notes, tasks and incidents repeat titles ("Weekly sync") by nature; a decision should not.
    if a.type != "decision" or b.type != "decision":
        return None
    da, db = _digest(ctx, a), _digest(ctx, b)  # the cheap test first: most pairs met on an axis differ here
    if len(da.words) < 2 or da.words != db.words or da.positive != db.positive:
        return None
    if not _interval(a).overlaps(_interval(b)):
        return None
    # The same words about different subjects or scopes are two decisions ("Use Postgres" here and there).
    if a.subject and b.subject and ctx.catalog.canon(a.subject) != ctx.catalog.canon(b.subject):
        return None
    ca, cb = a.constraint, b.constraint
    if ca is not None and cb is not None and not scopes_overlap(ctx.catalog, ca.scope, cb.scope):
        return None
    a, b = sorted((a, b), key=lambda block: (ctx.in_scope(block.id), block.created, block.id))
    message = f"two active decisions with one title: {a.id} and {b.id} both say {b.title!r}"
    return _finding(ctx, "MM-C007", "warning", message, a, b, same_ground=True)


def _finding(
    ctx: CheckContext,
    code: str,
    severity: str,
    message: str,
    a: Block,
    b: Block,
    *,
    same_ground: bool,
    edge_on: Block | None = None,
) -> Finding:
    """The finding for a conflicting pair; with the supersede fix when the newer one should replace the older."""
    order = newer_older(a, b) if same_ground else None
    if order is None:
        # Point at the touched side (the change being checked), else the first.
        at = a if ctx.in_scope(a.id) or not ctx.in_scope(b.id) else b
        return Finding(
            code,
            severity,
            message,
            tuple(sorted((a.id, b.id))),
            ctx.path_of(at.id),
            _line(ctx, at),
            fix="decide which holds: revoke one, narrow a scope or validity, or add `supersedes` to the one that wins",
        )
    newer, older = order
    edits = [Edit(newer.id, "add_edge", edge="supersedes", target=older.id)]
    if edge_on is newer:
        edits.insert(0, Edit(newer.id, "remove_edge", edge="contradicts", target=older.id))
    edits.append(Edit(older.id, "set_status", status="superseded"))
    return Finding(
        code,
        severity,
        message,
        tuple(sorted((a.id, b.id))),
        ctx.path_of(newer.id),
        _line(ctx, newer),
        fix=(
            f"{newer.id} is newer ({newer.created}): add `supersedes: [{older.id}]` to it and mark {older.id} "
            "superseded (`mm check --fix` does both)"
        ),
        edits=tuple(edits),
    )


def newer_older(a: Block, b: Block) -> tuple[Block, Block] | None:
    """(newer, older) when the newer block reads as an update of the older one.

    Not when they were written at the same moment, when the older one already has an end
    (`valid_to`: shorten the overlap instead), or when the newer one starts no later than the
    older one (it corrects the older claim rather than replacing it: revoke the wrong one).
    """
    ta, tb = _created(a), _created(b)
    if ta == tb:
        return None
    newer, older = (a, b) if ta > tb else (b, a)
    if older.valid_to:
        return None
    start_new, start_old = _interval(newer).start, _interval(older).start
    if start_old is not None and (start_new is None or start_new <= start_old):
        return None
    return newer, older


def _digest(ctx: CheckContext, block: Block) -> Digest:
    return ctx.catalog.by_id.get(block.id) or digest(block)


def _ordered_by_supersedes(ctx: CheckContext, a: Block, b: Block) -> bool:
    return _reaches(ctx, a.id, b.id) or _reaches(ctx, b.id, a.id)


def _reaches(ctx: CheckContext, start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        block = ctx.blocks.get(todo.pop())
        for target in block.targets("supersedes") if block else ():
            if target == goal:
                return True
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return False


def _line(ctx: CheckContext, block: Block) -> int | None:
    for key in ("constraint:", "object:", "title:"):
        line = ctx.line_of(block.id, key)
        if line is not None:
            return line
    return None


def _says(block: Block, c: Constraint) -> str:
    return f"{block.id} says {c.modality} {c.obj}"


def _where(ca: Constraint, cb: Constraint) -> str:
    scope = ca.scope if ca.scope == cb.scope else f"{ca.scope} / {cb.scope}"
    return f"axis {ca.axis}, scope {scope}"


def _validity(block: Block) -> str:
    return f"{block.valid_from or '…'}–{block.valid_to or '…'}"
