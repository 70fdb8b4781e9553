"""Graph speed: build_graph time and expand/impact/path/truth latency at 1k and 10k blocks.

Blocks come from benchmarks/corpus.py. The graph questions run on in-memory snapshots (what
`mm graph` does after reading the blocks); `--repo` also times reading the snapshot from a
committed repo at HEAD, the other half of a `mm graph` call.

    python benchmarks/graph.py [--sizes 1000 10000] [--queries 200] [--repo]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus

from mindmem.search import graph
from mindmem.store.memory import Memory
from mindmem.store.snapshot import Snapshot


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def latency(fn: Callable[[str], object], ids: list[str]) -> tuple[float, float]:
    times = []
    for block_id in ids:
        start = time.perf_counter()
        fn(block_id)
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def best_of(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run(n: int, queries: int, with_repo: bool) -> None:
    blocks = corpus.generate(n, seed=0)
    snap = Snapshot(None, {b.id: b for b in blocks}, {})
    build = best_of(lambda: graph.build_graph(snap))
    g = graph.build_graph(snap)
    rng = random.Random(1)
    ids = rng.sample(sorted(snap.blocks), min(queries, n))
    pairs = list(zip(ids, reversed(ids), strict=True))
    subjects = sorted({b.subject for b in blocks if b.subject}) or ids
    print(f"\n## {n} blocks: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges")
    print(f"build_graph             {ms(build)} (best of 3)")
    for label, fn, args in (
        ("expand depth 1", lambda i: graph.expand(g, i, 1), ids),
        ("expand depth 2", lambda i: graph.expand(g, i, 2), ids),
        ("impact", lambda i: graph.impact(g, i), ids),
        ("path (random pair)", lambda p: graph.path(g, *p), pairs),
        ("compiled_truth", lambda s: graph.compiled_truth(snap, s), subjects[:queries]),
    ):
        p50, p95 = latency(fn, args)
        print(f"{label:<23} p50 {ms(p50)}  p95 {ms(p95)}  ({len(args)} queries)")
    print(f"contradictions          {ms(best_of(lambda: graph.contradictions(g)))}")
    if with_repo:
        with tempfile.TemporaryDirectory() as tmp:
            mem = Memory(corpus.build_repo(Path(tmp) / "repo", n, seed=0))
            load = best_of(lambda: mem.snapshot("HEAD"))
            print(f"snapshot at HEAD        {ms(load)} (reading the blocks from git, best of 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repo", action="store_true", help="also time reading the snapshot from a committed repo")
    args = parser.parse_args()
    print("# benchmarks/graph.py")
    for n in args.sizes:
        run(n, args.queries, args.repo)


if __name__ == "__main__":
    main()
