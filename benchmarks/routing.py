"""Routing accuracy: does a router pick the right dispatcher, mode and arguments for plain words?

Scored on the held-out split of `mm dataset dispatch` (phrasings the training split never
uses). Measures correct tool, correct mode (recall mode, staged_change phase, graph/core
action), exact arguments that name things (IDs, proposal, subject), valid call, and time
per question, for the rule router and for a GGUF model given with --model.

    python benchmarks/routing.py [--count 2000] [--seed 11] [--model PATH]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable

from mindmem.dataset import dispatch_pairs
from mindmem.router import Call, route

NAMED = ("id", "proposal", "target", "subject", "type", "status")
MODE_KEYS = ("mode", "phase", "action")


def score(pairs: list, router: Callable[[str], Call | None]) -> dict[str, float]:
    tally: Counter[str] = Counter()
    times = []
    for pair in pairs:
        start = time.perf_counter()
        got = router(pair.prompt)
        times.append(time.perf_counter() - start)
        if got is None:
            continue
        tally["valid"] += 1
        want = pair.call
        if got.tool == want.tool:
            tally["tool"] += 1
            if all(got.arguments.get(k) == want.arguments.get(k) for k in MODE_KEYS):
                tally["mode"] += 1
                if all(got.arguments.get(k) == want.arguments.get(k) for k in NAMED if k in want.arguments):
                    tally["args"] += 1
    n = len(pairs)
    times.sort()
    return {k: tally[k] / n for k in ("valid", "tool", "mode", "args")} | {"p50_ms": times[n // 2] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--model", help="a GGUF model to score as a router too")
    args = parser.parse_args()
    pairs = [p for p in dispatch_pairs(args.count, args.seed) if p.split == "test"]
    rows = {"rules": score(pairs, route)}
    if args.model:
        from mindmem.extract.model_router import ModelRouter

        model = ModelRouter(args.model)
        rows[f"model {args.model.rsplit('/', 1)[-1]}"] = score(pairs, model.route_or_none)
    print(f"{len(pairs)} held-out questions (seed {args.seed})\n")
    print("| router | valid call | right tool | right mode | right arguments | p50 per question |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        cells = [f"{r[k]:.1%}" for k in ("valid", "tool", "mode", "args")]
        print(f"| {name} | {' | '.join(cells)} | {r['p50_ms']:.2f} ms |")
    wrong = Counter(
        f"{p.call.tool}/{next((p.call.arguments[k] for k in MODE_KEYS if k in p.call.arguments), '-')}"
        for p in pairs
        if route(p.prompt).tool != p.call.tool
    )
    if wrong:
        print("\nrule router misses by expected call:", ", ".join(f"{k} {v}" for k, v in wrong.most_common(8)))


if __name__ == "__main__":
    main()
