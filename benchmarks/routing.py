"""Routing accuracy: does a router pick the right dispatcher, mode and arguments for plain words?

Scored on the held-out split of `mm dataset dispatch` (phrasings the training split never
uses), and on plain questions written by hand, not by the generator's templates (right tool, and
right tool and mode): benchmarks/routing/plain.txt, which the rules were tuned on, and
benchmarks/routing/heldout.txt, written afterwards (tuned on in a later session), and dev.txt, tuned on in
session 20, and second.txt (written in session 20 before that session's rules), tuned on in session 21;
and two sets never tuned on: fresh.txt (session 19) and third.txt (written in session 21 before any change).
On the generated set it measures correct tool, correct mode (recall mode, staged_change phase, graph/core action), exact
arguments that name things (IDs, proposal, subject), valid call, and time per question; for the
rule router, and for a GGUF model given with --model (alone, and falling back to the rules when
its reply is not a valid call, and the rules asking the model only when no rule of theirs matched).
Misses on the plain sets go to stderr.

    python benchmarks/routing.py [--count 2000] [--seed 11] [--model 0.5b|1.5b|PATH] [--few-shot N]
        [--half tuning|held-out|dev|fresh|second|third|all] [--plain-only] [--answers FILE] [--unsure-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mindmem.agents.dataset import MODE_KEYS, dispatch_pairs, few_shot
from mindmem.agents.router import Call, route, ruled

NAMED = ("id", "proposal", "target", "subject", "type", "status")


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


SETS = Path(__file__).resolve().parent / "routing"
SET_FILES = (
    ("plain.txt", "tuning"),
    ("heldout.txt", "held-out"),
    ("dev.txt", "dev"),
    ("fresh.txt", "fresh"),
    ("second.txt", "second"),
    ("third.txt", "third"),
)
HALVES = tuple(half for _name, half in SET_FILES)


def plain_questions() -> list[tuple[str, str, str, str]]:
    """(set, tool, mode, question) for every set in SET_FILES. Mode "-" for tools without one."""
    out = []
    for name, half in SET_FILES:
        for line in (SETS / name).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                label, question = (part.strip() for part in line.split("|", 1))
                tool, mode = label.split()
                out.append((half, tool, mode, question))
    return out


def mode_of(call: Call) -> str:
    return next((str(call.arguments[k]) for k in MODE_KEYS if k in call.arguments), "-")


def score_plain(router: Callable[[str], Call | None], questions: list) -> dict[str, Any]:
    """Per half: share of questions with the right tool, and the right tool and mode; and the misses."""
    results = []
    for half, want_tool, want_mode, question in questions:
        got = router(question)
        ok_tool = got is not None and got.tool == want_tool
        results.append((half, ok_tool, ok_tool and mode_of(got) == want_mode))
        if not results[-1][2]:
            said = f"{got.tool}/{mode_of(got)}" if got else "no valid call"
            print(f"  miss ({half}): {want_tool}/{want_mode} <- {question!r}: got {said}", file=sys.stderr)
    out: dict[str, Any] = {}
    for half in (*HALVES, "all"):
        chosen = [r for r in results if half in ("all", r[0])]
        if chosen:
            n = len(chosen)
            out[half] = {"n": n, "tool": sum(r[1] for r in chosen) / n, "mode": sum(r[2] for r in chosen) / n}
    return out


def _model(name: str) -> str:
    if name in ("0.5b", "1.5b"):
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from models import model_path

        return str(model_path(f"qwen-{name}"))
    return name


def _asked_once(model: Any, saved: Path | None) -> Callable[[str], Call | None]:
    """The model's call per question, each question asked once; kept in `saved` (JSON) when given,
    so the rules can change and the combinations be scored again without the model's minutes."""
    asked: dict[str, Any] = json.loads(saved.read_text()) if saved and saved.exists() else {}

    def by_model(q: str) -> Call | None:
        if q not in asked:
            call = model.route_or_none(q)
            asked[q] = call.to_json() if call else None
            if saved:
                saved.write_text(json.dumps(asked, indent=1))
        return Call(asked[q]["tool"], asked[q]["arguments"]) if asked[q] else None

    return by_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--model", help="a GGUF model (or 0.5b, 1.5b from benchmarks/models.py) to score too")
    parser.add_argument("--few-shot", type=int, default=0, help="add N train-split examples to the model's prompt")
    parser.add_argument("--half", choices=(*HALVES, "all"), default="all", help="plain questions to ask")
    parser.add_argument("--plain-only", action="store_true", help="skip the generated questions")
    parser.add_argument(
        "--unsure-only", action="store_true", help="ask the model only where no rule matches (its combination only)"
    )
    parser.add_argument("--answers", type=Path, help="keep the model's calls in this JSON file and reuse them")
    parser.add_argument("--sample", type=int, help="only N plain questions, evenly spaced (models are slow)")
    args = parser.parse_args()
    questions = [q for q in plain_questions() if args.half in ("all", q[0])]
    if args.sample and args.sample < len(questions):
        questions = [questions[i * len(questions) // args.sample] for i in range(args.sample)]
    routers: dict[str, Callable[[str], Call | None]] = {"rules": route}
    if args.model:
        from mindmem.agents.model_router import ModelRouter

        model = ModelRouter(_model(args.model), examples=few_shot(args.few_shot))
        label = f"model {Path(_model(args.model)).name}" + (f", {args.few_shot} examples" if args.few_shot else "")
        by_model = _asked_once(model, args.answers)
        if not args.unsure_only:
            routers[label] = by_model
            routers[label + ", rules when invalid"] = lambda q: by_model(q) or route(q)
        routers[f"rules, {label} when no rule matches"] = lambda q: ruled(q) or by_model(q) or route(q)
    print(f"{len(questions)} plain questions written by hand ({args.half})\n")
    print("| router | half | questions | right tool | right tool and mode | s per question |")
    print("|---|---|---|---|---|---|")
    for name, router in routers.items():
        start = time.perf_counter()
        found = score_plain(router, questions)
        took = (time.perf_counter() - start) / len(questions)
        for half, r in found.items():
            print(f"| {name} | {half} | {r['n']} | {r['tool']:.1%} | {r['mode']:.1%} | {took:.2f} |")
    if args.plain_only:
        return
    pairs = [p for p in dispatch_pairs(args.count, args.seed) if p.split == "test"]
    rows = {name: score(pairs, router) for name, router in routers.items()}
    print(f"\n{len(pairs)} generated held-out questions (seed {args.seed})\n")
    print("| router | valid call | right tool | right mode | right arguments | p50 per question |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        cells = [f"{r[k]:.1%}" for k in ("valid", "tool", "mode", "args")]
        print(f"| {name} | {' | '.join(cells)} | {r['p50_ms']:.2f} ms |")


if __name__ == "__main__":
    main()
