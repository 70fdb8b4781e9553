"""Contradictions family (MM-C): active blocks that cannot both be true.

Signals, strongest first (one finding per pair, the strongest wins):
- MM-C001 an explicit `contradicts` edge between two active blocks;
- MM-C002 constraint signatures on one axis with overlapping scope, one `must` and
  the other `must_not` the same object (critical);
- MM-C003 softer opposite modalities on one object (`must`/`should_not`, `should`/`should_not`,
  `may`/`must_not`);
- MM-C004 two `must` with different objects on one axis;
- MM-C005 facts with the same subject and predicate and different objects over overlapping validity;
- MM-C006 titles that say the same thing with opposite polarity ("Use Redis" / "Avoid Redis").

Pairs already ordered by `supersedes` (directly or along a chain), pairs with disjoint
validity, and blocks that are not active never conflict. Time-aware: when one block
is newer and covers the same ground, the finding carries the machine fix "newer
supersedes older" instead of only saying no.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from mindmem.blocks import Block, Constraint
from mindmem.checks.context import CheckContext
from mindmem.checks.findings import Edit, Finding

WILDCARD_SCOPES = frozenset({"*", "**", "all", "any", "global", "everything", "everywhere"})
SCOPE_SEPARATORS = ("/", ".", ":")
# Predicates that relate a subject to many objects at once; two facts with them never conflict.
MULTI_VALUED = frozenset(
    {
        "uses",
        "depends_on",
        "has",
        "includes",
        "contains",
        "supports",
        "member_of",
        "owns",
        "maintains",
        "works_on",
        "knows",
        "speaks",
        "integrates_with",
        "related_to",
        "reviewed_by",
        "tested_by",
        "mentions",
    }
)
# Opposite modalities on the same object: (severity, code).
OPPOSED = {
    frozenset({"must", "must_not"}): ("critical", "MM-C002"),
    frozenset({"must", "should_not"}): ("warning", "MM-C003"),
    frozenset({"should", "must_not"}): ("warning", "MM-C003"),
    frozenset({"should", "should_not"}): ("warning", "MM-C003"),
    frozenset({"may", "must_not"}): ("warning", "MM-C003"),
}
STRENGTH = {"MM-C001": 0, "MM-C002": 1, "MM-C003": 2, "MM-C004": 3, "MM-C005": 4, "MM-C006": 5}

# -- title polarity -------------------------------------------------------------------

_STOP_TEXT = """
a an the to for of in at by with we our us is are be been being should must shall will would do does did
any all and or as from into this that it its always only ca wo also
"""
STOPWORDS = frozenset(_STOP_TEXT.split())
NEGATIONS = frozenset({"not", "no", "never", "nor", "without"})
# word -> (canonical word, polarity); the second word of each pair is the negative one.
_ANTONYM_PAIRS = (
    ("use", "avoid"),
    ("enable", "disable"),
    ("allow", "forbid"),
    ("allow", "deny"),
    ("allow", "prohibit"),
    ("allow", "ban"),
    ("allow", "disallow"),
    ("permit", "forbid"),
    ("include", "exclude"),
    ("add", "remove"),
    ("keep", "drop"),
    ("start", "stop"),
    ("accept", "reject"),
    ("require", "skip"),
    ("open", "close"),
    ("on", "off"),
    ("public", "private"),
    ("increase", "decrease"),
    ("mandatory", "optional"),
    ("allowlist", "denylist"),
    ("true", "false"),
)


def _forms(verb: str) -> set[str]:
    stem = verb[:-1] if verb.endswith("e") else verb
    return {verb, verb + "s", verb + "d" if verb.endswith("e") else verb + "ed", stem + "ing"}


LEXICON: dict[str, tuple[str, bool]] = {}
for _pos, _neg in _ANTONYM_PAIRS:
    for _form in _forms(_pos):
        LEXICON.setdefault(_form, (_pos, True))
    for _form in _forms(_neg):
        LEXICON.setdefault(_form, (_pos, False))
_WORD = re.compile(r"[a-z0-9][a-z0-9+#.]*[a-z0-9+#]|[a-z0-9]")


def title_signature(title: str) -> tuple[tuple[str, ...], bool]:
    """(content words with antonyms folded, positive?) of a title; "Do not disable X" == "Enable X"."""
    text = title.lower().replace("n't", " not").replace("’", "'")
    positive = True
    words: set[str] = set()
    for word in _WORD.findall(text):
        if word in NEGATIONS:
            positive = not positive
        elif word in LEXICON:
            canonical, polarity = LEXICON[word]
            positive = positive if polarity else not positive
            words.add(canonical)
        elif word not in STOPWORDS:
            words.add(word)
    return tuple(sorted(words)), positive


# -- normalising names ------------------------------------------------------------------


def norm(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().lower())


def norm_predicate(text: str) -> str:
    return re.sub(r"[\s-]+", "_", text.strip().lower())


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


class _Index:
    """Buckets over every live block, so each touched block meets only the blocks it could conflict with."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.aliases: dict[str, str] = {}
        for block in ctx.blocks.values():
            if block.type == "entity":
                for name in (block.id, block.title, *block.aliases):
                    self.aliases.setdefault(norm(name), block.id)
        multi = ctx.options.get("multi_valued_predicates", ())
        self.multi_valued = MULTI_VALUED | {norm_predicate(p) for p in multi if isinstance(p, str)}
        self.by_axis: dict[str, list[Block]] = defaultdict(list)
        self.by_claim: dict[tuple[str, str], list[Block]] = defaultdict(list)
        self.by_title: dict[tuple[str, ...], list[Block]] = defaultdict(list)
        for block in ctx.blocks.values():
            if not live(block):
                continue
            if block.constraint is not None:
                self.by_axis[norm(block.constraint.axis)].append(block)
            claim = self.claim(block)
            if claim is not None:
                self.by_claim[claim].append(block)
            words, _ = title_signature(block.title)
            if len(words) >= 2:
                self.by_title[words].append(block)

    def canon(self, name: str) -> str:
        key = norm(name)
        return self.aliases.get(key, key)

    def claim(self, block: Block) -> tuple[str, str] | None:
        if block.type != "fact" or not (block.subject and block.predicate and block.obj):
            return None
        predicate = norm_predicate(block.predicate)
        if predicate in self.multi_valued:
            return None
        return self.canon(block.subject), predicate

    def candidates(self, block: Block) -> Iterator[Block]:
        for other_id in (*block.targets("contradicts"), *self.incoming_contradicts(block.id)):
            other = self.ctx.blocks.get(other_id)
            if other is not None:
                yield other
        if block.constraint is not None:
            yield from self.by_axis.get(norm(block.constraint.axis), ())
        claim = self.claim(block)
        if claim is not None:
            yield from self.by_claim.get(claim, ())
        words, _ = title_signature(block.title)
        if len(words) >= 2:
            yield from self.by_title.get(words, ())

    def incoming_contradicts(self, block_id: str) -> list[str]:
        return [src for src, t in self.ctx.incoming.get(block_id, ()) if t == "contradicts"]

    def scopes_overlap(self, a: str, b: str) -> bool:
        a, b = self.canon(a), self.canon(b)
        if a == b or a in WILDCARD_SCOPES or b in WILDCARD_SCOPES:
            return True
        if any(ch in s for s in (a, b) for ch in "*?["):
            return fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a)
        short, long = sorted((a, b), key=len)
        return any(long.startswith(short + sep) for sep in SCOPE_SEPARATORS)


def live(block: Block) -> bool:
    """Only active blocks state current truth; tasks are plans, not claims."""
    return block.status == "active" and block.type != "task"


def check(ctx: CheckContext) -> Iterator[Finding]:
    index = _Index(ctx)
    seen: set[frozenset[str]] = set()
    for block in ctx.focus:
        if not live(block):
            continue
        for other in index.candidates(block):
            pair = frozenset((block.id, other.id))
            if other.id == block.id or pair in seen or not live(other):
                continue
            seen.add(pair)
            if _ordered_by_supersedes(ctx, block, other):
                continue
            finding = judge(index, block, other)
            if finding is not None:
                yield finding


def judge(index: _Index, a: Block, b: Block) -> Finding | None:
    """The strongest contradiction between two live blocks, or None."""
    if not _interval(a).overlaps(_interval(b)):
        return None
    found = [
        f for f in (_explicit(index, a, b), _constraints(index, a, b), _facts(index, a, b), _titles(index, a, b)) if f
    ]
    return min(found, key=lambda f: STRENGTH[f.code]) if found else None


def _explicit(index: _Index, a: Block, b: Block) -> Finding | None:
    if b.id in a.targets("contradicts"):
        source, target = a, b
    elif a.id in b.targets("contradicts"):
        source, target = b, a
    else:
        return None
    message = f"{source.id} contradicts {target.id} and both are active"
    return _finding(index, "MM-C001", "warning", message, source, target, same_ground=True, edge_on=source)


def _constraints(index: _Index, a: Block, b: Block) -> Finding | None:
    ca, cb = a.constraint, b.constraint
    if ca is None or cb is None or norm(ca.axis) != norm(cb.axis):
        return None
    if ca.predicate and cb.predicate and norm(ca.predicate) != norm(cb.predicate):
        return None
    if not index.scopes_overlap(ca.scope, cb.scope):
        return None
    same_scope = index.canon(ca.scope) == index.canon(cb.scope)
    same_object = index.canon(ca.obj) == index.canon(cb.obj)
    if same_object and frozenset((ca.modality, cb.modality)) in OPPOSED:
        severity, code = OPPOSED[frozenset((ca.modality, cb.modality))]
        message = f"{_says(a, ca)} but {_says(b, cb)} ({_where(ca, cb)})"
        return _finding(index, code, severity, message, a, b, same_ground=same_scope)
    multi_axes = {norm(x) for x in index.ctx.options.get("multi_valued_axes", ()) if isinstance(x, str)}
    if not same_object and ca.modality == cb.modality == "must" and norm(ca.axis) not in multi_axes:
        message = f"{_says(a, ca)} but {_says(b, cb)}: one axis, two required objects ({_where(ca, cb)})"
        return _finding(index, "MM-C004", "warning", message, a, b, same_ground=same_scope)
    return None


def _facts(index: _Index, a: Block, b: Block) -> Finding | None:
    claim = index.claim(a)
    if claim is None or claim != index.claim(b):
        return None
    if index.canon(a.obj or "") == index.canon(b.obj or ""):
        return None
    message = (
        f"{a.id} says {a.subject} {a.predicate} {a.obj!r} but {b.id} says {b.obj!r} for the same time "
        f"({_validity(a)} / {_validity(b)})"
    )
    return _finding(index, "MM-C005", "warning", message, a, b, same_ground=True)


def _titles(index: _Index, a: Block, b: Block) -> Finding | None:
    if a.type != b.type:
        return None
    if a.subject and b.subject and index.canon(a.subject) != index.canon(b.subject):
        return None
    words_a, pos_a = title_signature(a.title)
    words_b, pos_b = title_signature(b.title)
    if len(words_a) < 2 or words_a != words_b or pos_a == pos_b:
        return None
    message = f"titles say opposite things: {a.id} {a.title!r} / {b.id} {b.title!r}"
    return _finding(index, "MM-C006", "warning", message, a, b, same_ground=True)


def _finding(
    index: _Index,
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
    ctx = index.ctx
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
    """(newer, older) when one block is strictly newer and does not reach back before the other's validity."""
    ta, tb = _created(a), _created(b)
    if ta == tb:
        return None
    newer, older = (a, b) if ta > tb else (b, a)
    start_new, start_old = _interval(newer).start, _interval(older).start
    if start_old is not None and (start_new is None or start_new < start_old):
        return None
    return newer, older


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
