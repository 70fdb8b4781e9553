"""False positives of the safety scan on the generated corpus, and what it catches in the evasion corpus.

    python benchmarks/safety_corpus.py [--n 10000] [--seed 0]

Every block of the generated corpus (`corpus.py`, ordinary project memory with no planted
hazards) is rendered and scanned; a block with any MM-X finding is a false positive, and a
critical one counts separately. Then every case of tests/fixtures/evasions is scanned as the
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

from mindmem.blocks import render  # noqa: E402
from mindmem.checks.safety import scan  # noqa: E402


def false_positives(n: int, seed: int) -> dict[str, object]:
    texts = [render(block) for block in corpus.generate(n, seed=seed)]
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
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    fp, ev = false_positives(args.n, args.seed), evasions()
    if args.json:
        print(json.dumps({"false_positives": fp, "evasions": ev}, indent=2))
        return 0
    print(f"generated corpus: {fp['blocks']} blocks, scanned in {fp['scan_seconds']:.2f} s")
    print(f"  flagged (any severity): {fp['flagged']} ({fp['flagged_pct']:.2f}%)")
    print(f"  flagged critical:       {fp['critical']} ({fp['critical_pct']:.2f}%)")
    for kind, count in fp["kinds"].items():  # type: ignore[union-attr]
        print(f"    {count:5}  {kind}")
    print(f"evasion corpus: {ev['cases']} cases {ev['by_kind']}")
    print(f"  flagged critical: {ev['critical']} ({ev['critical_pct']:.1f}%)")
    for miss in ev["missed"]:  # type: ignore[union-attr]
        print(f"    missed {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
