"""Precision and recall of the contradiction checks on the labelled cases in tests/fixtures/contradictions/.

    python benchmarks/contradictions.py [--verbose]

Each case is a handful of blocks and a label: `conflict` (the pair must be flagged),
`supersede` (flagged, and the fix must be "`newer` supersedes the other"), or `none`
(nothing may be flagged). Per family (the fixture file): precision, recall, and how
often the time-aware suggestion was right. Critical findings on a `none` case are
listed separately: there must be none.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mindmem.checks import contradictions
from mindmem.checks.context import CheckContext
from mindmem.checks.findings import Finding
from mindmem.store.blocks import Block, block_relpath, from_mapping
from mindmem.store.snapshot import Snapshot

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "contradictions"
PREFIX = {"decision": "D", "fact": "F", "task": "T", "incident": "I", "note": "N"}
DEFAULT_TYPE = {"facts": "fact"}


@dataclass(frozen=True)
class Case:
    family: str
    name: str
    label: str
    pair: tuple[str, str]
    newer: str | None
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Outcome:
    case: Case
    found: bool  # the labelled pair was flagged
    spurious: int  # other pairs flagged
    suggestion_ok: bool
    critical_on_none: bool
    findings: tuple[Finding, ...] = field(default=())

    @property
    def correct(self) -> bool:
        if self.case.label == "none":
            return not self.found and not self.spurious
        return self.found and not self.spurious and self.suggestion_ok


def load(folder: Path = FIXTURES) -> list[Case]:
    cases = []
    for path in sorted(folder.glob("*.yaml")):
        family = path.stem
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")):
            cases.append(_case(family, raw, DEFAULT_TYPE.get(family, "decision")))
    return cases


def _case(family: str, raw: dict[str, Any], default_type: str) -> Case:
    keys = list(raw["blocks"])
    ids: dict[str, str] = {}
    for n, key in enumerate(keys, 1):
        spec = raw["blocks"][key]
        block_type = spec.get("type", default_type)
        ids[key] = spec.get("id") or f"{PREFIX[block_type]}-20260101-{n:06x}"

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return ids.get(value, value)
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    blocks = []
    for key in keys:
        spec = dict(raw["blocks"][key])
        spec.pop("id", None)
        body = spec.pop("body", "")
        for short, full in ids.items():
            body = body.replace(f"[[{short}]]", f"[[{full}]]")
        meta = {
            "id": ids[key],
            "type": spec.pop("type", default_type),
            "status": spec.pop("status", "active" if spec.get("type") != "task" else "todo"),
            "created": f"{spec.pop('created', '2026-01-01')}T00:00:00Z",
            **{k: str(v) if k in ("valid_from", "valid_to", "expires") else v for k, v in spec.items()},
        }
        if "edges" in meta:
            meta["edges"] = {t: swap(targets) for t, targets in meta["edges"].items()}
        blocks.append(from_mapping(meta, body, f"{family}: {raw['name']}"))
    claims = [k for k in keys if raw["blocks"][k].get("type") != "entity"]
    pair = tuple(raw.get("pair", claims[:2]))
    return Case(
        family, raw["name"], raw["label"], (ids[pair[0]], ids[pair[1]]), ids.get(raw.get("newer")), tuple(blocks)
    )


def run_case(case: Case) -> Outcome:
    blocks = {b.id: b for b in case.blocks}
    paths = {b.id: f"memory/{block_relpath(b)}" for b in case.blocks}
    ctx = CheckContext(Snapshot(None, blocks, paths), "memory")
    findings = tuple(contradictions.check(ctx))
    target = frozenset(case.pair)
    hits = [f for f in findings if frozenset(f.blocks) == target]
    spurious = len({frozenset(f.blocks) for f in findings} - {target})
    older = next(iter(target - {case.newer})) if case.newer else None
    supersedes = [
        (e.block_id, e.target) for f in hits for e in f.edits if e.op == "add_edge" and e.edge == "supersedes"
    ]
    suggestion_ok = supersedes == [(case.newer, older)] if case.label == "supersede" else not supersedes
    critical_on_none = case.label == "none" and any(f.severity == "critical" for f in findings)
    return Outcome(case, bool(hits), spurious, suggestion_ok, critical_on_none, findings)


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int
    suggestions_right: int
    suggestions: int
    critical_false_positives: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score(outcomes: list[Outcome]) -> Score:
    tally: Counter[str] = Counter()
    for o in outcomes:
        positive = o.case.label != "none"
        tally["tp"] += positive and o.found
        tally["fn"] += positive and not o.found
        tally["fp"] += o.spurious + (not positive and o.found)
        if positive and o.found:
            tally["suggestions"] += 1
            tally["right"] += o.suggestion_ok
        tally["critical"] += o.critical_on_none
    return Score(tally["tp"], tally["fp"], tally["fn"], tally["right"], tally["suggestions"], tally["critical"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list every case that is not right")
    args = parser.parse_args(argv)
    outcomes = [run_case(c) for c in load()]
    families = sorted({o.case.family for o in outcomes})
    print(f"{'family':<16} {'cases':>5} {'precision':>9} {'recall':>6} {'supersede advice':>16}")
    for name in [*families, "overall"]:
        chosen = [o for o in outcomes if name in ("overall", o.case.family)]
        s = score(chosen)
        advice = f"{s.suggestions_right}/{s.suggestions}"
        print(f"{name:<16} {len(chosen):>5} {s.precision:>9.3f} {s.recall:>6.3f} {advice:>16}")
    overall = score(outcomes)
    print(f"critical findings on `none` cases: {overall.critical_false_positives}")
    if args.verbose:
        for o in outcomes:
            if not o.correct:
                codes = ", ".join(f"{f.code} {'/'.join(f.blocks)}" for f in o.findings) or "nothing"
                print(f"  wrong: [{o.case.family}] {o.case.name} ({o.case.label}): found {codes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
