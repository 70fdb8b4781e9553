"""Leave-one-conversation-out check of recall's ranking knobs on a LoCoMo file.

    python benchmarks/locomo_folds.py [FILE] [--passage-weight W ...] [--date-prior P ...] [--json]

For each conversation in turn, every combination of the knobs' values is scored on the other conversations
(the mean MRR over both units and the three writings of benchmarks/locomo.py) and the best one is asked
the held-out conversation's questions. Printed: each fold's choice and held-out MRR, and the held-out MRR
pooled over the folds (every question answered with the values chosen without its conversation) beside
the in-sample MRR of the values recall ships with. The knobs are module constants of
`mindmem.search.ranking`, set in the worker processes that ask the questions.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from locomo import DEFAULT_FILE, DEPTH, UNITS, WRITINGS, _answers, cached_repo, unit_key
from locomo_data import Sample, load

from mindmem.search import ranking

KNOBS = ("PASSAGE_WEIGHT", "DATE_PRIOR")
# The grids recall.md reports for these knobs.
GRIDS = {"PASSAGE_WEIGHT": (0.3, 0.5, 0.7, 1.0), "DATE_PRIOR": (0.1, 0.2, 0.4, 0.6)}
Setting = tuple[float, ...]
# (unit, writing) -> sample -> reciprocal rank of the first evidence hit, per question with evidence.
Ranks = dict[tuple[str, str], dict[int, list[float]]]
Found = dict[Setting, Ranks]


def reciprocal_ranks(sample: Sample, unit: str, answers: list[list[str]]) -> list[float]:
    known = {t.dia_id for t in sample.turns}
    out = []
    for question, ranked in zip(sample.questions, answers, strict=True):
        gold = {unit_key(d, unit) for d in question.evidence if d in known}
        if gold:
            first = next((rank for rank, key in enumerate(ranked[:DEPTH], 1) if key in gold), None)
            out.append(1 / first if first else 0.0)
    return out


def _ask(setting: Setting, workdir: Path, keys: dict[str, str], questions: list[str]) -> list[list[str]]:
    for name, value in zip(KNOBS, setting, strict=True):
        setattr(ranking, name, value)
    return _answers(workdir, keys, questions)


def measure(
    path: Path, settings: list[Setting], workers: int | None = None, workdir: Path | None = None
) -> tuple[list[Sample], Found]:
    """Every question's reciprocal rank under every setting, in both units and every writing (repos are
    kept under `workdir`, by default where benchmarks/locomo.py keeps them)."""
    samples = load(path)
    file_hash = hashlib.sha1(path.read_bytes()).hexdigest()
    root = workdir or Path(tempfile.gettempdir()) / "mindmem-locomo"
    root.mkdir(parents=True, exist_ok=True)
    repos = {
        (unit, writing, n): cached_repo(root, file_hash, sample, unit, writing)
        for unit in UNITS
        for writing in WRITINGS
        for n, sample in enumerate(samples)
    }
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        jobs = {
            (setting, key): pool.submit(
                _ask, setting, memory.git.workdir, keys, [q.question for q in samples[key[2]].questions]
            )
            for setting in settings
            for key, (memory, keys) in repos.items()
        }
        found: Found = {}
        for (setting, (unit, writing, n)), job in jobs.items():
            ranks = found.setdefault(setting, {}).setdefault((unit, writing), {})
            ranks[n] = reciprocal_ranks(samples[n], unit, job.result())
    return samples, found


def mrr(ranks: Ranks, samples: list[int]) -> dict[tuple[str, str], float]:
    out = {}
    for key, per_sample in ranks.items():
        pooled = [r for n in samples for r in per_sample[n]]
        out[key] = sum(pooled) / max(1, len(pooled))
    return out


def objective(ranks: Ranks, samples: list[int]) -> float:
    """What a fold maximises: the mean MRR over both units and every writing."""
    figures = mrr(ranks, samples)
    return sum(figures.values()) / len(figures)


def folds(samples: list[Sample], found: Found) -> tuple[list[dict[str, object]], Ranks]:
    """Each fold's choice and held-out MRR, and every question's rank under its fold's choice."""
    everyone = range(len(samples))
    rows: list[dict[str, object]] = []
    held_out: Ranks = {}
    for n in everyone:
        train = [m for m in everyone if m != n]
        # Ties go to the first setting in grid order; the order is fixed, so the choice is reproducible.
        chosen = max(found, key=lambda s: objective(found[s], train))
        for key, per_sample in found[chosen].items():
            held_out.setdefault(key, {})[n] = per_sample[n]
        figures = mrr(found[chosen], [n])
        rows.append({"held_out": samples[n].sample_id, "chosen": dict(zip(KNOBS, chosen, strict=True)),
                     **{f"{u}/{w}": round(v, 4) for (u, w), v in sorted(figures.items())}})  # fmt: skip
    return rows, held_out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, nargs="?", default=DEFAULT_FILE, help="a LoCoMo-format JSON file")
    parser.add_argument("--passage-weight", type=float, nargs="+", default=GRIDS["PASSAGE_WEIGHT"])
    parser.add_argument("--date-prior", type=float, nargs="+", default=GRIDS["DATE_PRIOR"])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not args.file.exists():
        print(f"# {args.file} not found: no LoCoMo data here, nothing measured (the data is never in the repo)")
        return
    shipped = tuple(getattr(ranking, name) for name in KNOBS)
    settings = list(dict.fromkeys([*itertools.product(args.passage_weight, args.date_prior), shipped]))
    samples, found = measure(args.file, settings)
    rows, held_out = folds(samples, found)
    everyone = list(range(len(samples)))
    result = {
        "knobs": KNOBS,
        "shipped": dict(zip(KNOBS, shipped, strict=True)),
        "folds": rows,
        "held_out": {f"{u}/{w}": v for (u, w), v in sorted(mrr(held_out, everyone).items())},
        "in_sample": {f"{u}/{w}": v for (u, w), v in sorted(mrr(found[shipped], everyone).items())},
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"# leave one conversation out over {len(samples)} conversations; knobs {', '.join(KNOBS)}")
    for row in rows:
        print(json.dumps(row))
    for name in ("held_out", "in_sample"):
        label = "pooled held-out folds" if name == "held_out" else f"in sample, shipped {result['shipped']}"
        print(f"# MRR, {label}: " + ", ".join(f"{k} {v:.4f}" for k, v in result[name].items()))


if __name__ == "__main__":
    main(sys.argv[1:])
