"""A deterministic generator of realistic memory repos, for benchmarks and for tests at small N.

    python benchmarks/corpus.py PATH --n 1000 --seed 1 [--commits 20]

Library use (benchmarks put this folder on sys.path and `import corpus`):

- `make(n, seed=0, start=START) -> Corpus`: the blocks in created order (final state), the
  planted contradictions (`Corpus.planted`, a tuple of `Planted(kind, older, newer)`), and
  the earlier version of every block that changed later (`Corpus.revisions`).
- `generate(n, seed=0, start=START) -> list[Block]`: just the blocks.
- `build_repo(path, n, seed=0, commits=1) -> Path`: a fresh git repo with `mm init --commit`,
  then the blocks committed in created order over `commits` commits (commit dates follow
  the blocks' `created`), and a clean work tree and index holding the final state.

What a corpus holds (N >= MIN_N): entities (PER-/PRJ-/TOOL-/ORG- with aliases) first, then
decisions (most with a `constraint` on an axis such as storage.engine, scoped to a project or,
for org-wide axes, an org), facts (subject/predicate/object, `valid_from`, sometimes closed with
`valid_to`), tasks (statuses, due dates), incidents and notes, with Markdown bodies (sections,
code spans, some fenced code, `[[ID]]` wiki links), code citations `path@sha#Lx-Ly`, tags, and all
7 edge types. Creation times spread over two years from `start`.

Edges and wiki links only point at blocks created earlier, so no commit has a dangling edge
(there are none on purpose). A decision on an (axis, scope) that already has an active
decision supersedes it; a fact on a (subject, predicate) that already has an active fact
supersedes it, closes its validity (`valid_to`) or revokes it with a `contradicts` edge. So
apart from the planted ones there are no contradictions: exactly the `Corpus.planted` pairs
are (1) `must_vs_must_not`: two active decisions, same axis, scope and object, must vs must_not;
(2) `two_musts`: two active decisions, same axis and scope, `must` with different objects;
(3) `fact_overlap`: two active facts, same subject and predicate, different objects, both open-
ended from their `valid_from`; (4) `explicit_contradicts`: an active incident or note with a
`contradicts` edge to an active fact. Every other `contradicts` edge has a revoked target.

Same (n, seed, start) gives the same blocks byte for byte: one seeded `random.Random`, no clock.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from mindmem.store import blocks as b
from mindmem.store.blocks import Block

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_words import (
    CODE_SPANS,
    EXTS,
    FACT_PREDICATES,
    FACT_VALUES,
    FENCES,
    FILLER,
    FIRST,
    INCIDENTS,
    LAST,
    MODALITY_WORDS,
    MODULES,
    NOTES,
    ORG_AXES,
    ORG_SUFFIXES,
    ORGS,
    PROCESS_DECISIONS,
    PROJECT_AXES,
    PROJECT_SUFFIXES,
    PROJECTS,
    ROLES,
    TASK_STATUSES,
    TASKS,
    TIMEZONES,
    TOOLS,
)

START = date(2024, 11, 25)
SPAN_DAYS = 730
MIN_N = 40
PLANTED_KINDS = ("must_vs_must_not", "two_musts", "fact_overlap", "explicit_contradicts")
# Share of the non-entity, non-planted blocks per type.
TYPE_SHARES = {"decision": 0.16, "fact": 0.32, "task": 0.22, "incident": 0.07, "note": 0.23}
ENTITY_SHARE = 0.08
ENTITY_WEIGHTS = {"PER": 0.55, "PRJ": 0.25, "TOOL": 0.13, "ORG": 0.07}
AGENTS = ("agent-claude", "agent-codex", "agent-aider")

ENTITY_PREFIXES = ("PER", "PRJ", "TOOL", "ORG")


@dataclass(frozen=True)
class Planted:
    """A contradiction put there on purpose: `older` was created before `newer`."""

    kind: str
    older: str
    newer: str


@dataclass(frozen=True)
class Batch:
    """One commit's worth of history: blocks added or changed, dated by the newest `created`."""

    blocks: tuple[Block, ...]
    added: int
    when: datetime


@dataclass(frozen=True)
class Corpus:
    blocks: tuple[Block, ...]
    planted: tuple[Planted, ...]
    # id -> (the block as first written, index in `blocks` of the block whose arrival changed it)
    revisions: dict[str, tuple[Block, int]] = field(default_factory=dict)

    def batches(self, commits: int) -> Iterator[Batch]:
        """Split the history into `commits` batches in created order (each block at its version then)."""
        n = len(self.blocks)
        commits = max(1, min(commits, n))
        position = {blk.id: i for i, blk in enumerate(self.blocks)}
        changed_at: dict[int, list[str]] = {}
        for block_id, (_, at) in self.revisions.items():
            changed_at.setdefault(at, []).append(block_id)
        begin = 0
        for k in range(commits):
            end = n * (k + 1) // commits
            out = []
            for blk in self.blocks[begin:end]:
                rev = self.revisions.get(blk.id)
                out.append(rev[0] if rev is not None and rev[1] >= end else blk)
            for at in range(begin, end):
                out.extend(self.blocks[position[i]] for i in changed_at.get(at, ()) if position[i] < begin)
            yield Batch(tuple(out), end - begin, datetime.fromisoformat(self.blocks[end - 1].created))
            begin = end


def generate(n: int, seed: int = 0, start: date = START) -> list[Block]:
    """n valid blocks of every type, in created order; see `make` for what they hold."""
    return list(make(n, seed, start).blocks)


def make(n: int, seed: int = 0, start: date = START) -> Corpus:
    """The corpus for (n, seed, start): same arguments, same blocks, byte for byte."""
    if n < MIN_N:
        raise ValueError(f"a corpus needs at least {MIN_N} blocks to hold every type and planted case, not {n}")
    return _Generator(n, seed, start).run()


def files(blocks: Sequence[Block], root: str = "memory") -> dict[str, bytes]:
    """Repo-relative path -> canonical bytes, the way `mm` lays blocks out."""
    return {f"{root}/{b.block_relpath(blk)}": b.render(blk).encode() for blk in blocks}


# -- the generator ---------------------------------------------------------------


@dataclass
class _Rec:
    """A block under construction: a later block may still change it once (status, valid_to)."""

    index: int
    meta: dict[str, Any]
    body: str
    initial: dict[str, Any] | None = None
    changed_at: int | None = None

    @property
    def id(self) -> str:
        return self.meta["id"]


class _Generator:
    def __init__(self, n: int, seed: int, start: date) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.start = datetime(start.year, start.month, start.day, tzinfo=UTC)
        self.now = self.start
        self.index = 0
        self.recs: list[_Rec] = []
        self.by_id: dict[str, _Rec] = {}
        # block type, entity prefix or "done_task" -> ids, oldest first
        self.pools: dict[str, list[str]] = {}
        self.names: dict[str, str] = {}  # entity id -> display name
        self.handles: dict[str, str] = {}  # PER id -> handle, used as author
        self.aliases: set[str] = set()
        # (axis, scope) -> its one active decision, and (subject, predicate) -> its one active open fact.
        # Planted keys are never entered here, so no later block touches a planted pair.
        self.decisions: dict[tuple[str, str], _Rec] = {}
        self.decision_keys: dict[bool, list[tuple[str, str]]] = {True: [], False: []}  # by org-wide
        self.facts: dict[tuple[str, str], _Rec] = {}
        self.fact_keys: list[tuple[str, str]] = []
        self.used_keys: set[tuple[str, str]] = set()  # every key ever used, planted ones included
        self.edge_types_seen: set[str] = set()
        self.planted: list[Planted] = []

    # -- schedule and main loop ----------------------------------------------

    def run(self) -> Corpus:
        seconds = sorted(self.rng.randrange(SPAN_DAYS * 86400) for _ in range(self.n))
        for index, (slot, offset) in enumerate(zip(self._schedule(), seconds, strict=True)):
            self.index = index
            self.now = self.start + timedelta(seconds=offset)
            rec = slot()
            self.recs.append(rec)
            self.by_id[rec.id] = rec
            self.pools.setdefault(rec.meta["type"], []).append(rec.id)
            if rec.meta["type"] == "entity":
                self.pools.setdefault(rec.id.split("-", 1)[0], []).append(rec.id)
            self.edge_types_seen.update(rec.meta.get("edges", {}))
        blocks = tuple(_block(rec.meta, rec.body) for rec in self.recs)
        revisions = {
            rec.id: (_block(rec.initial, rec.body), rec.changed_at)
            for rec in self.recs
            if rec.initial is not None and rec.changed_at is not None
        }
        return Corpus(blocks, tuple(self.planted), revisions)

    def _schedule(self) -> list[Callable[[], _Rec]]:
        per_kind = 1 + self.n // 2000
        entities = max(8, round(self.n * ENTITY_SHARE))
        head = max(6, round(entities * 0.3))
        # The first entities: an org, tools, people and a project, so every later block has something to name.
        opening = ("ORG", "TOOL", "PER", "PER", "TOOL", "PRJ")
        slots = [self._entity_slot(opening[i] if i < len(opening) else None) for i in range(head)]
        rest = [self._entity_slot(None) for _ in range(entities - head)]
        makers = {
            "decision": self._decision,
            "fact": self._fact,
            "task": self._task,
            "incident": self._incident,
            "note": self._note,
        }
        normal = self.n - entities - 2 * per_kind * len(PLANTED_KINDS)
        for block_type, count in _allocate(normal, TYPE_SHARES).items():
            rest.extend([makers[block_type]] * count)
        self.rng.shuffle(rest)
        for kind in PLANTED_KINDS:
            for _ in range(per_kind):
                older, newer = self._plant(kind)
                i = self.rng.randint(0, len(rest))
                rest.insert(i, older)
                rest.insert(self.rng.randint(i + 1, len(rest)), newer)
        return slots + rest

    def _entity_slot(self, prefix: str | None) -> Callable[[], _Rec]:
        return lambda: self._entity(prefix)

    # -- picking earlier blocks ------------------------------------------------------

    def _choose(self, kinds: Sequence[str], k: int = 1, exclude: Sequence[str] = ()) -> list[str]:
        """Up to k distinct earlier blocks from these pools; recent blocks are referenced more often."""
        pools = [self.pools[kind] for kind in kinds if self.pools.get(kind)]
        if not pools:
            return []
        weights = [len(pool) for pool in pools]
        out: list[str] = []
        for _ in range(20 * k):
            if len(out) == k:
                break
            pool = pools[0] if len(pools) == 1 else self.rng.choices(pools, weights=weights)[0]
            choice = self.rng.choice(pool[-40:] if self.rng.random() < 0.6 else pool)
            if choice not in out and choice not in exclude:
                out.append(choice)
        return out

    def _pick(self, kind: str) -> str:
        return self._choose((kind,))[0]

    def _want(self, edge_type: str, p: float) -> bool:
        """Use this edge with probability p, and always while no block has used it yet."""
        return self.rng.random() < p or edge_type not in self.edge_types_seen

    # -- small pieces -----------------------------------------------------------------

    def _created(self) -> str:
        return b.format_time(self.now)

    def _day(self, days: int = 0) -> str:
        return (self.now + timedelta(days=days)).date().isoformat()

    def _month(self) -> str:
        return self.now.strftime("%B %Y")

    def _new_id(self, prefix: str) -> str:
        day = self.now.strftime("%Y%m%d")
        while True:
            block_id = f"{prefix}-{day}-{self.rng.getrandbits(24):06x}"
            if block_id not in self.by_id:
                return block_id

    def _author(self) -> str:
        if not self.pools.get("PER") or self.rng.random() < 0.2:
            return self.rng.choice(AGENTS)
        return self.handles[self._pick("PER")]

    def _name(self, block_id: str) -> str:
        return self.names.get(block_id, block_id)

    def _filler(self) -> str:
        return self.rng.choice(FILLER)

    def _code(self) -> str:
        return self.rng.choice(CODE_SPANS)

    def _citation(self, project: str) -> str:
        path = f"services/{project.split('-', 1)[1]}/{self.rng.choice(MODULES)}.{self.rng.choice(EXTS)}"
        sha = f"{self.rng.getrandbits(160):040x}"[: self.rng.choice((7, 12, 40))]
        if self.rng.random() < 0.15:
            return f"{path}@{sha}"
        first = self.rng.randint(1, 400)
        return f"{path}@{sha}#L{first}-L{first + self.rng.randint(0, 60)}"

    def _base(self, prefix: str, block_type: str, title: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": self._new_id(prefix),
            "type": block_type,
            "title": title,
            "status": b.DEFAULT_STATUS[block_type],
            "created": self._created(),
            "author": self._author(),
            **fields,
        }

    def _rec(self, meta: dict[str, Any], sections: Sequence[tuple[str, list[str]] | str]) -> _Rec:
        meta = {k: v for k, v in meta.items() if v is not None and v != [] and v != {}}
        return _Rec(self.index, meta, _markdown(sections))

    def _revise(self, rec: _Rec, at: int, **final: Any) -> None:
        """`rec` is first written as it is now and becomes `final` when block number `at` arrives."""
        assert rec.initial is None, f"{rec.id} would change twice"
        rec.initial = dict(rec.meta)
        rec.changed_at = at
        rec.meta.update(final)

    def _revise_later(self, rec: _Rec, **final: Any) -> None:
        """Like `_revise`, at a random later block; the last block is simply written in its final state."""
        if self.index >= self.n - 1:
            rec.meta.update(final)
        else:
            self._revise(rec, self.rng.randint(self.index + 1, min(self.n - 1, self.index + 300)), **final)

    # -- entities --------------------------------------------------------------

    def _entity(self, prefix: str | None) -> _Rec:
        if prefix is None:
            prefix = _weighted(self.rng, ENTITY_WEIGHTS)
            if prefix == "TOOL" and len(self.pools.get("TOOL", ())) >= len(TOOLS):
                prefix = "PER"  # real tool names run out; people do not
        maker = {"PER": self._person, "PRJ": self._project_entity, "TOOL": self._tool_entity, "ORG": self._org}
        return maker[prefix]()

    def _slug(self, prefix: str, make: Callable[[], str]) -> str:
        """A fresh slug; after 20 taken ones, number the last one (`alice-nguyen-2`)."""
        for _ in range(20):
            slug = make()
            if f"{prefix}-{slug}" not in self.by_id:
                return slug
        number = 2
        while f"{prefix}-{slug}-{number}" in self.by_id:
            number += 1
        return f"{slug}-{number}"

    def _alias(self, *choices: str) -> list[str]:
        """The first alias nobody has yet: aliases never name two entities."""
        for alias in choices:
            if alias not in self.aliases:
                self.aliases.add(alias)
                return [alias]
        return []

    def _entity_rec(
        self, block_id: str, title: str, aliases: list[str], sections: Sequence[Any], **fields: Any
    ) -> _Rec:
        self.names[block_id] = title
        meta = {
            "id": block_id,
            "type": "entity",
            "title": title,
            "status": "active",
            "created": self._created(),
            "author": self._author(),
            "aliases": aliases,
            **fields,
        }
        return self._rec(meta, sections)

    def _person(self) -> _Rec:
        slug = self._slug("PER", lambda: f"{self.rng.choice(FIRST)}-{self.rng.choice(LAST)}")
        first, last = slug.split("-")[:2]
        aliases = self._alias(first, f"{first}{last[0]}", f"{first}.{last}", slug)
        handle = aliases[0] if aliases else slug
        orgs = self.pools.get("ORG", [])
        edges = {"relates_to": [orgs[0] if self.rng.random() < 0.8 else self._pick("ORG")]} if orgs else {}
        role = self.rng.choice(ROLES).capitalize() + "."
        if self.pools.get("PRJ"):
            role += f" Mostly on [[{self._pick('PRJ')}]]."
        sections = [
            ("Role", [role]),
            ("Contact", [f"Handle `@{handle}`. Prefers async review; timezone {self.rng.choice(TIMEZONES)}."]),
        ]
        title = f"{first.title()} {last.title()}"
        rec = self._entity_rec(f"PER-{slug}", title, aliases, sections, tags=["person"], edges=edges)
        self.handles[rec.id] = handle
        return rec

    def _project_entity(self) -> _Rec:
        def make() -> str:
            base = self.rng.choice(PROJECTS)
            return base if self.rng.random() < 0.5 else f"{base}-{self.rng.choice(PROJECT_SUFFIXES)}"

        slug = self._slug("PRJ", make)
        title = slug.replace("-", " ").capitalize()
        edges: dict[str, list[str]] = {}
        if self.pools.get("TOOL"):
            edges["depends_on"] = self._choose(("TOOL",), self.rng.randint(1, 3))
        if self.pools.get("ORG"):
            edges["relates_to"] = [self.pools["ORG"][0]]
        sections = [
            ("What it is", [f"The {title.lower()} service. Code lives in `services/{slug}/`. {self._filler()}"]),
            ("Runbook", [f"Deploy with `make deploy SERVICE={slug}`; roll back with `kubectl rollout undo`."]),
        ]
        aliases = self._alias(f"{slug}-service")
        return self._entity_rec(f"PRJ-{slug}", title, aliases, sections, tags=["project"], edges=edges)

    def _tool_entity(self) -> _Rec:
        taken = set(self.pools.get("TOOL", ()))
        slug, display, aliases = self.rng.choice([t for t in TOOLS if f"TOOL-{t[0]}" not in taken])
        sections = [f"{display}, as we run it. {self._filler()}", f"Config lives next to the code; see {self._code()}."]
        return self._entity_rec(f"TOOL-{slug}", display, self._alias(*aliases), sections, tags=["tool"])

    def _org(self) -> _Rec:
        def make() -> str:
            base = self.rng.choice(ORGS)
            return base if self.rng.random() < 0.6 else f"{base}-{self.rng.choice(ORG_SUFFIXES)}"

        slug = self._slug("ORG", make)
        what = "A vendor we work with." if self.pools.get("ORG") else "Our company."
        aliases = self._alias(f"{slug}.example")
        return self._entity_rec(
            f"ORG-{slug}", slug.replace("-", " ").title(), aliases, [f"{what} {self._filler()}"], tags=["org"]
        )

    # -- decisions ---------------------------------------------------------------

    def _decision(self) -> _Rec:
        if self.rng.random() < 0.25:
            return self._process_decision()
        org_wide = self.rng.random() < 0.15
        axes = ORG_AXES if org_wide else PROJECT_AXES
        current = self.decision_keys[org_wide]
        key: tuple[str, str] | None = None
        if current and (self.rng.random() < 0.3 or "supersedes" not in self.edge_types_seen):
            key = self.rng.choice(current)
        else:
            for _ in range(10):
                candidate = (self.rng.choice(list(axes)), self._pick("ORG" if org_wide else "PRJ"))
                if candidate not in self.used_keys:
                    key = candidate
                    current.append(key)
                    break
        if key is None:
            return self._process_decision()
        old = self.decisions.get(key)
        modality = _weighted(self.rng, {"must": 0.5, "should": 0.25, "may": 0.1, "must_not": 0.1, "should_not": 0.05})
        objects = [o for o in axes[key[0]][1] if old is None or o != old.meta["constraint"]["object"]]
        rec = self._constraint_decision(key, modality, self.rng.choice(objects), supersedes=old)
        self.decisions[key] = rec
        return rec

    def _constraint_decision(
        self, key: tuple[str, str], modality: str, obj: str, *, supersedes: _Rec | None = None
    ) -> _Rec:
        axis, scope = key
        self.used_keys.add(key)
        topic = {**PROJECT_AXES, **ORG_AXES}[axis][0]
        where = f"in {self._name(scope)}" if scope.startswith("PRJ-") else f"across {self._name(scope)}"
        title = f"{MODALITY_WORDS[modality]} {obj} for {topic} {where}"
        edges = self._decision_edges()
        context = [f"{topic.capitalize()} {where} needs one settled answer. {self._filler()}"]
        if supersedes is not None:
            edges["supersedes"] = [supersedes.id]
            context.append(f"This replaces [[{supersedes.id}]] ({supersedes.meta['title']}).")
            self._revise(supersedes, self.index, status="superseded")
        if edges.get("cites"):
            context.append("Evidence: " + ", ".join(f"[[{c}]]" for c in edges["cites"]) + ".")
        meta = self._decision_meta(title, scope, [axis.split(".")[0], scope.split("-", 1)[1]], edges)
        meta["constraint"] = {"axis": axis, "scope": scope, "modality": modality, "object": obj}
        decision = [f"{MODALITY_WORDS[modality]} **{obj}** for {topic} {where}. Configure it with {self._code()}."]
        consequences = [f"- {self._filler()}", f"- Watch {self._code()} in the dashboards.", f"- {self._filler()}"]
        return self._rec(meta, [("Context", context), ("Decision", decision), ("Consequences", consequences)])

    def _process_decision(self) -> _Rec:
        project = self._pick("PRJ")
        title = self.rng.choice(PROCESS_DECISIONS).format(p=self._name(project))
        meta = self._decision_meta(title, project, ["process", project.split("-", 1)[1]], self._decision_edges())
        rec = self._rec(meta, [("Context", [self._filler()]), ("Decision", [title + "."])])
        if self.rng.random() < 0.1:
            # Revoked later. It has no constraint, so revoking it settles no conflict.
            self._revise_later(rec, status="revoked")
        return rec

    def _decision_meta(self, title: str, subject: str, tags: list[str], edges: dict[str, list[str]]) -> dict[str, Any]:
        meta = self._base("D", "decision", title, subject=subject, tags=tags, edges=edges)
        if self.rng.random() < 0.5:
            meta["citations"] = [self._citation(subject if subject.startswith("PRJ-") else self._pick("PRJ"))]
        if self.rng.random() < 0.6:
            meta["valid_from"] = self._day()
        if self.rng.random() < 0.2:
            meta["expires"] = self._day(self.rng.choice((90, 180, 365)))
        return meta

    def _decision_edges(self) -> dict[str, list[str]]:
        edges: dict[str, list[str]] = {}
        if self._want("cites", 0.6):
            edges["cites"] = self._choose(("fact", "incident"), self.rng.randint(1, 3))
        if self._want("derived_from", 0.15):
            edges["derived_from"] = self._choose(("incident", "note"))
        if self._want("depends_on", 0.15):
            edges["depends_on"] = self._choose(("decision",))
        if self._want("tested_by", 0.15):
            edges["tested_by"] = self._choose(("done_task",))
        return {k: v for k, v in edges.items() if v}

    # -- facts --------------------------------------------------------------------

    def _fact(self) -> _Rec:
        if self.fact_keys and (self.rng.random() < 0.3 or not {"supersedes", "contradicts"} <= self.edge_types_seen):
            rec = self._update_fact(self.rng.choice(self.fact_keys))
            if rec is not None:
                return rec
        key = self._fresh_fact_key()
        if key is None:
            return self._note()
        rec = self._fact_rec(key, self._fact_value(key) or "")
        self.facts[key] = rec
        self.fact_keys.append(key)
        return rec

    def _update_fact(self, key: tuple[str, str]) -> _Rec | None:
        """A new value for a (subject, predicate): the old fact is revoked, closed or superseded."""
        old = self.facts[key]
        value = self._fact_value(key, exclude=old.meta["object"])
        if value is None:
            return None
        how = self.rng.random()
        closing_day = self._day(-1)
        if "contradicts" not in self.edge_types_seen or how < 0.15:
            # It was wrong all along: the new fact says so, the old one is revoked.
            rec = self._fact_rec(key, value, {"contradicts": [old.id]}, f"[[{old.id}]] was wrong.")
            self._revise(old, self.index, status="revoked")
        elif how < 0.5 and closing_day >= old.meta["valid_from"] and "supersedes" in self.edge_types_seen:
            # The world changed: the old fact stays true for its own time.
            rec = self._fact_rec(key, value, {}, f"Until {closing_day} this was [[{old.id}]].")
            self._revise(old, self.index, valid_to=closing_day)
        else:
            rec = self._fact_rec(key, value, {"supersedes": [old.id]})
            self._revise(old, self.index, status="superseded")
        self.facts[key] = rec
        return rec

    def _fresh_fact_key(self, *, literal: bool = False) -> tuple[str, str] | None:
        """A (subject, predicate) never used before; `literal`: one whose objects are plain values."""
        for _ in range(30):
            prefix = _weighted(self.rng, {"PRJ": 0.5, "TOOL": 0.25, "PER": 0.25})
            predicates = [
                p for p, (_, kind) in FACT_PREDICATES[prefix].items() if not literal or kind not in ENTITY_PREFIXES
            ]
            key = (self._pick(prefix), self.rng.choice(predicates))
            if key not in self.used_keys and self._fact_value(key) is not None:
                return key
        return None

    def _fact_value(self, key: tuple[str, str], exclude: str | None = None) -> str | None:
        subject, predicate = key
        kind = FACT_PREDICATES[subject.split("-", 1)[0]][predicate][1]
        if kind in ENTITY_PREFIXES:
            choices = self.pools.get(kind, [])[-60:]
        elif kind == "version":
            major = self.rng.randint(1, 17)
            choices = [f"{major}.{minor}" for minor in range(6)]
        elif kind == "channel":
            choices = [f"#oncall-{subject.split('-', 1)[1]}{suffix}" for suffix in ("", "-primary", "-urgent")]
        else:
            choices = list(FACT_VALUES[kind])
        choices = [c for c in choices if c not in (subject, exclude)]
        return self.rng.choice(choices) if choices else None

    def _fact_rec(
        self, key: tuple[str, str], value: str, edges: dict[str, list[str]] | None = None, note: str = ""
    ) -> _Rec:
        subject, predicate = key
        self.used_keys.add(key)
        phrase = FACT_PREDICATES[subject.split("-", 1)[0]][predicate][0]
        edges = dict(edges or {})
        if self._want("derived_from", 0.3):
            edges["derived_from"] = self._choose(("note", "incident"))
        if self._want("tested_by", 0.08):
            edges["tested_by"] = self._choose(("done_task",))
        edges = {k: v for k, v in edges.items() if v}
        meta = self._base(
            "F",
            "fact",
            f"{self._name(subject)} {phrase} {self._name(value)}",
            subject=subject,
            predicate=predicate,
            object=value,
            tags=[predicate.split("_")[0], subject.split("-", 1)[0].lower()],
            edges=edges,
            valid_from=self._day(),
        )
        if subject.startswith("PRJ-") and self.rng.random() < 0.3:
            meta["citations"] = [self._citation(subject)]
        if self.rng.random() < 0.1:
            meta["confidence"] = self.rng.choice((0.6, 0.8, 0.9))  # a key people add; `mm fmt` keeps it
        shown = f"[[{value}]]" if value in self.names else f"`{value}`"
        lines = [f"[[{subject}]] {phrase} {shown}.", note]
        if "derived_from" in edges:
            lines.append(f"Source: [[{edges['derived_from'][0]}]].")
        lines.append(self._filler())
        return self._rec(meta, [" ".join(line for line in lines if line)])

    # -- tasks, incidents, notes --------------------------------------------------

    def _task(self) -> _Rec:
        project, tool = self._pick("PRJ"), self._pick("TOOL")
        title = self.rng.choice(TASKS).format(p=self._name(project), t=self._name(tool), m=self._month())
        # The first task is done, so later blocks have a finished test task to point `tested_by` at.
        status = _weighted(self.rng, dict(TASK_STATUSES)) if self.pools.get("done_task") else "done"
        edges: dict[str, list[str]] = {}
        if status == "blocked" or self._want("depends_on", 0.3):
            edges["depends_on"] = self._choose(("task", "decision"), self.rng.randint(1, 2))
        if self._want("relates_to", 0.3):
            edges["relates_to"] = [project]
        meta = self._base(
            "T",
            "task",
            title,
            subject=project,
            tags=[project.split("-", 1)[1], title.split()[0].lower()],
            edges={k: v for k, v in edges.items() if v},
        )
        if self.rng.random() < 0.7:
            meta["due"] = self._day(self.rng.randint(7, 60))
        if self.rng.random() < 0.3:
            meta["citations"] = [self._citation(project)]
        why = [f"Part of the work on [[{project}]] with [[{tool}]]. {self._filler()}"]
        if edges.get("depends_on"):
            why.append("Waits for " + ", ".join(f"[[{x}]]" for x in edges["depends_on"]) + ".")
        steps = [
            f"- [ ] {self._filler()}",
            f"- [ ] Check {self._code()} before and after.",
            "- [ ] Update the runbook.",
        ]
        rec = self._rec(meta, [("Why", why), ("Steps", steps)])
        if status != "todo":
            self._revise_later(rec, status=status)  # every task starts as todo
        if status == "done":
            self.pools.setdefault("done_task", []).append(rec.id)
        return rec

    def _incident(self, contradicts: _Rec | None = None) -> _Rec:
        project, tool = self._pick("PRJ"), self._pick("TOOL")
        title = self.rng.choice(INCIDENTS).format(p=self._name(project), t=self._name(tool))
        severity = self.rng.choice(("sev1", "sev2", "sev2", "sev3", "sev3", "sev3"))
        edges: dict[str, list[str]] = {}
        if self._want("cites", 0.6):
            edges["cites"] = self._choose(("fact",), self.rng.randint(1, 2))
        if self._want("relates_to", 0.4):
            edges["relates_to"] = self._choose(("task",), 2)
        summary = [f"[[{project}]] degraded for {self.rng.randint(4, 180)} minutes. {self._filler()}"]
        if contradicts is not None:
            edges["contradicts"] = [contradicts.id]
            summary.append(f"What we saw contradicts [[{contradicts.id}]] ({contradicts.meta['title']}).")
        hour = self.rng.randint(0, 20)
        timeline = [
            f"- {hour:02d}:{self.rng.randint(0, 59):02d} UTC alert fired on {self._code()}",
            f"- {hour + 1:02d}:{self.rng.randint(0, 59):02d} UTC mitigated by rolling back",
            f"- {hour + 2:02d}:{self.rng.randint(0, 59):02d} UTC all clear",
        ]
        cause = [f"[[{tool}]] behaved differently under load than in staging. {self._filler()}"]
        if self.rng.random() < 0.3:
            cause.append(self.rng.choice(FENCES))
        actions = [f"- [[{t}]]" for t in edges.get("relates_to", [])] or ["- Add an alert on saturation."]
        meta = self._base(
            "I",
            "incident",
            title,
            subject=project,
            tags=["incident", severity, project.split("-", 1)[1]],
            edges={k: v for k, v in edges.items() if v},
            citations=[self._citation(project)] if self.rng.random() < 0.6 else None,
        )
        sections = [("Summary", summary), ("Timeline", timeline), ("Root cause", cause), ("Action items", actions)]
        return self._rec(meta, sections)

    def _note(self, contradicts: _Rec | None = None) -> _Rec:
        project, tool, person = self._pick("PRJ"), self._pick("TOOL"), self._pick("PER")
        title = self.rng.choice(NOTES).format(
            p=self._name(project),
            t=self._name(tool),
            m=self._month(),
            person=self._name(person),
            topic=self.rng.choice(list(PROJECT_AXES)).split(".")[0],
        )
        anything = ("decision", "fact", "task", "incident", "note")
        edges: dict[str, list[str]] = {}
        if self._want("cites", 0.3):
            edges["cites"] = self._choose(anything, self.rng.randint(1, 3))
        if self._want("relates_to", 0.2):
            edges["relates_to"] = self._choose(anything, 1, exclude=edges.get("cites", []))
        points = [f"- [[{person}]]: {self._filler()}", f"- We looked at {self._code()} on [[{project}]]."]
        points += [f"- See [[{x}]]." for x in edges.get("cites", [])]
        background = self._choose(anything) if self.rng.random() < 0.5 else []
        points += [f"- Background in [[{x}]]." for x in background]  # a wiki link only: counts as relates_to
        if contradicts is not None:
            edges["contradicts"] = [contradicts.id]
            points.append(f"- This contradicts [[{contradicts.id}]]; nobody has reconciled them yet.")
        sections: list[tuple[str, list[str]]] = [("Notes", points), ("Next", [f"- {self._filler()}"])]
        if self.rng.random() < 0.2:
            sections.append(("Snippet", [self.rng.choice(FENCES)]))
        meta = self._base(
            "N",
            "note",
            title,
            subject=project if self.rng.random() < 0.5 else None,
            tags=["notes", project.split("-", 1)[1]],
            edges={k: v for k, v in edges.items() if v},
        )
        return self._rec(meta, sections)

    # -- planted contradictions ------------------------------------------------------

    def _plant(self, kind: str) -> tuple[Callable[[], _Rec], Callable[[], _Rec]]:
        """Two slots: the older block, then the one that contradicts it. Neither changes later."""
        state: dict[str, Any] = {}

        def older() -> _Rec:
            if kind in ("must_vs_must_not", "two_musts"):
                state["key"] = self._fresh_constraint_key()
                state["obj"] = self.rng.choice(PROJECT_AXES[state["key"][0]][1])
                rec = self._constraint_decision(state["key"], "must", state["obj"])
            else:
                state["key"] = self._fresh_fact_key(literal=True)
                assert state["key"] is not None, "no fresh (subject, predicate) left for a planted contradiction"
                rec = self._fact_rec(state["key"], self._fact_value(state["key"]) or "")
            state["older"] = rec
            return rec

        def newer() -> _Rec:
            first: _Rec = state["older"]
            if kind == "must_vs_must_not":
                rec = self._constraint_decision(state["key"], "must_not", state["obj"])
            elif kind == "two_musts":
                others = [o for o in PROJECT_AXES[state["key"][0]][1] if o != state["obj"]]
                rec = self._constraint_decision(state["key"], "must", self.rng.choice(others))
            elif kind == "fact_overlap":
                rec = self._fact_rec(state["key"], self._fact_value(state["key"], exclude=first.meta["object"]) or "")
            else:
                rec = (self._incident if self.rng.random() < 0.5 else self._note)(contradicts=first)
            self.planted.append(Planted(kind, first.id, rec.id))
            return rec

        return older, newer

    def _fresh_constraint_key(self) -> tuple[str, str]:
        """A project (axis, scope) no decision has used yet."""
        for _ in range(30):
            key = (self.rng.choice(list(PROJECT_AXES)), self._pick("PRJ"))
            if key not in self.used_keys:
                return key
        free = [(axis, p) for axis in PROJECT_AXES for p in self.pools["PRJ"] if (axis, p) not in self.used_keys]
        assert free, "every project has a decision on every axis; no room for a planted contradiction"
        return self.rng.choice(free)


def _block(meta: dict[str, Any], body: str) -> Block:
    return b.from_mapping(meta, body, f"corpus block {meta['id']}")


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _allocate(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split `total` by shares (largest remainder), at least one each."""
    raw = {k: total * v / sum(shares.values()) for k, v in shares.items()}
    counts = {k: max(1, int(v)) for k, v in raw.items()}
    by_remainder = sorted(shares, key=lambda k: raw[k] - int(raw[k]), reverse=True)
    for i in range(total - sum(counts.values())):
        counts[by_remainder[i % len(by_remainder)]] += 1
    return counts


def _markdown(sections: Sequence[tuple[str, list[str]] | str]) -> str:
    """A body of `## Heading` sections (or bare paragraphs); consecutive list items stay one list."""
    parts: list[str] = []
    for section in sections:
        if isinstance(section, str):
            parts.append(section)
            continue
        heading, lines = section
        text = ""
        for line in lines:
            tight = text.rsplit("\n", 1)[-1].startswith("- ") and line.startswith("- ")
            text = line if not text else text + ("\n" if tight else "\n\n") + line
        parts += [f"## {heading}", text]
    return "\n\n".join(parts)


# -- a repo on disk -------------------------------------------------------------------


def build_repo(
    path: Path,
    n: int,
    seed: int = 0,
    commits: int = 1,
    *,
    start: date = START,
    mode: str = "detect_only",
) -> Path:
    """A new memory repo at `path` (missing or empty) holding `make(n, seed, start)`.

    `mm init --commit` first (mode detect_only: this history is direct commits, not approvals),
    then `commits` commits in created order, each dated by its newest block, then the final
    blocks written into the work tree and staged, so `git status` is clean.
    """
    from mindmem.store.files import atomic_write
    from mindmem.store.memory import Memory
    from mindmem.store.repo import GitRepo, Person

    path = Path(path)
    if path.exists() and any(path.iterdir()):
        raise ValueError(f"{path} is not empty; build_repo wants a missing or empty folder")
    GitRepo.init(path)  # its own repository, even inside another work tree
    Memory.init(path, mode=mode, commit=True)
    mem = Memory(path)
    corpus = make(n, seed, start)
    person = Person("Corpus Generator", "corpus@mindmem.invalid")
    branch = mem.settings.governed_branch
    for batch in corpus.batches(commits):
        first, last = batch.blocks[0].created[:10], batch.when.date().isoformat()
        updated = len(batch.blocks) - batch.added
        message = f"Add {batch.added} memory blocks, {first}..{last}\n\n{updated} earlier blocks updated.\n"
        mem.git.commit_files(branch, files(batch.blocks, mem.root), message, person, when=int(batch.when.timestamp()))
    final = files(corpus.blocks, mem.root)
    for rel, data in final.items():
        atomic_write(mem.workdir / rel, data)
    mem.git.stage_paths(list(final))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build a deterministic memory repo for benchmarks.")
    parser.add_argument("path", type=Path, help="folder to create (missing or empty)")
    parser.add_argument("--n", type=int, default=1000, help=f"number of blocks (at least {MIN_N})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--commits", type=int, default=1, help="spread the history over this many commits")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    build_repo(args.path, args.n, args.seed, args.commits)
    took = time.perf_counter() - began
    planted = make(args.n, args.seed).planted
    print(f"{args.path}: {args.n} blocks in {args.commits} commit(s) in {took:.1f} s; planted contradictions:")
    for p in planted:
        print(f"  {p.kind:<22} {p.older} {p.newer}")


if __name__ == "__main__":
    main(sys.argv[1:])
