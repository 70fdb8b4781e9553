"""False positives of the safety scan on the generated corpus, and what it catches in the evasion corpus.

    python benchmarks/safety_corpus.py [--n 10000] [--seed 0] [--locomo ../shared/data/locomo-dev.json]

Every block of the generated corpus (`corpus.py`, ordinary project memory with no planted
hazards) is rendered and scanned; a block with any MM-X finding is a false positive, and a
critical one counts separately. The same is done for real conversation turns when the LoCoMo
file is there (one block per turn, as benchmarks/locomo.py builds them; read at run time, never
copied; skipped with a note when missing). Then every case of tests/fixtures/evasions is scanned as the
evasion test places it, and the share flagged critical is printed with the misses by name.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import corpus  # noqa: E402
from test_evasions import CASES, flagged_critical  # noqa: E402

from mindmem.checks.safety import scan  # noqa: E402
from mindmem.store.blocks import render  # noqa: E402


def generated_texts(n: int, seed: int) -> list[str]:
    return [render(block) for block in corpus.generate(n, seed=seed)]


def locomo_texts(path: Path) -> list[str]:
    """One note block per conversation turn: "Speaker: text" as the body."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    texts = []
    for sample in raw:
        for key, turns in sample["conversation"].items():
            if not key.startswith("session_") or not isinstance(turns, list):
                continue
            for turn in turns:
                body = f"{turn['speaker']}: {turn.get('text', '')}"
                texts.append(
                    f"---\nid: N-20260101-{len(texts) % 0xFFFFFF:06x}\ntype: note\ntitle: turn\n"
                    f"status: active\ncreated: 2026-01-01\n---\n{body}\n"
                )
    return texts


def false_positives(texts: list[str]) -> dict[str, object]:
    n = len(texts)
    start = time.perf_counter()
    results = [scan(text) for text in texts]
    seconds = time.perf_counter() - start
    flagged = [r for r in results if r]
    critical = [r for r in flagged if any(h[1] == "critical" for h in r)]
    kinds = Counter(f"{h[0]} {h[2].split(':')[0][:60]}" for r in flagged for h in r)
    return {
        "blocks": n,
        "flagged": len(flagged),
        "flagged_pct": 100 * len(flagged) / n,
        "critical": len(critical),
        "critical_pct": 100 * len(critical) / n,
        "scan_seconds": seconds,
        "kinds": dict(kinds.most_common(10)),
    }


def evasions() -> dict[str, object]:
    missed = [f"{c['id']}: {c['disguise']}" for c in CASES if not flagged_critical(c)]
    by_kind = Counter(c["kind"] for c in CASES)
    return {
        "cases": len(CASES),
        "by_kind": dict(by_kind),
        "critical": len(CASES) - len(missed),
        "critical_pct": 100 * (len(CASES) - len(missed)) / len(CASES),
        "missed": missed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--locomo", type=Path, default=HERE.parent.parent / "shared/data/locomo-dev.json")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    corpora = {"generated corpus": false_positives(generated_texts(args.n, args.seed))}
    if args.locomo.is_file():
        corpora["LoCoMo turns"] = false_positives(locomo_texts(args.locomo))
    ev = evasions()
    if args.json:
        print(json.dumps({"false_positives": corpora, "evasions": ev}, indent=2))
        return 0
    for name, fp in corpora.items():
        print(f"{name}: {fp['blocks']} blocks, scanned in {fp['scan_seconds']:.2f} s")
        print(f"  flagged (any severity): {fp['flagged']} ({fp['flagged_pct']:.2f}%)")
        print(f"  flagged critical:       {fp['critical']} ({fp['critical_pct']:.2f}%)")
        for kind, count in fp["kinds"].items():  # type: ignore[union-attr]
            print(f"    {count:5}  {kind}")
    if not args.locomo.is_file():
        print(f"LoCoMo turns: skipped ({args.locomo} not found)")
    print(f"evasion corpus: {ev['cases']} cases {ev['by_kind']}")
    print(f"  flagged critical: {ev['critical']} ({ev['critical_pct']:.1f}%)")
    for miss in ev["missed"]:  # type: ignore[union-attr]
        print(f"    missed {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
