"""Index and recall speed: full build, catch-up after a one-block commit, query latency per mode.

Corpora come from benchmarks/corpus.py (committed repos). For each size:
- full index build (`index.rebuild`), best of 2;
- catch-up after a commit that changes one block: in process (what the tool does after its own
  commits) and in a fresh process (what a git hook pays, interpreter start and imports included);
  the ratio is full build / in-process catch-up;
- recall p50/p95 per mode, in process, on queries made from the corpus (block titles for
  similar/intent/bundle, fact statements for verify, incident titles for diagnose), as wall
  time and as CPU time of this process (on a shared machine the CPU figure is the stable one);
- `mm recall` from the CLI (a new process per query), p50.

    python benchmarks/recall.py [--sizes 1000 10000] [--queries 100] [--cli 10]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus

from mindmem import blocks as b
from mindmem import index
from mindmem.memory import Memory
from mindmem.recall import MODES, recall
from mindmem.repo import Person

PERSON = Person("Bench", "bench@mindmem.invalid")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def queries_for(memory: Memory, count: int, rng: random.Random) -> dict[str, list[str]]:
    blocks = memory.list(at="HEAD")
    titles = [blk.title for blk in blocks]
    facts = [f"{blk.subject} {blk.predicate} {blk.obj}" for blk in blocks if blk.type == "fact" and blk.predicate]
    incidents = [blk.title for blk in blocks if blk.type == "incident"] or titles

    def pick(pool: list[str]) -> list[str]:
        return [rng.choice(pool) for _ in range(count)]

    return {
        "similar": pick(titles),
        "intent": [f"who decided {t}" if i % 2 else f"what is the status of {t}" for i, t in enumerate(pick(titles))],
        "verify": pick(facts or titles),
        "diagnose": pick(incidents),
        "bundle": pick(titles),
    }


def change_one_block(memory: Memory, rng: random.Random) -> None:
    """Commit an edit of one random note or fact with pygit2 (a one-block commit)."""
    snap = memory.snapshot("HEAD")
    block_id = rng.choice([i for i in snap.blocks if i[0] in "NF"])
    block = snap.blocks[block_id]
    data = b.render(b.from_mapping(block.to_mapping(), block.body + f"\n\nEdited {time.time_ns()}.", "bench"))
    memory.git.commit_files(memory.settings.governed_branch, {snap.paths[block_id]: data.encode()}, "edit", PERSON)


def child(args: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of a child process; the CPU figure ignores time spent waiting for a core."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(lambda: subprocess.run(args, check=True, env=env, capture_output=True))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def fresh_process_catch_up(path: Path) -> tuple[float, float]:
    script = (
        "import sys; from mindmem.memory import Memory; from mindmem import index; index.catch_up(Memory(sys.argv[1]))"
    )
    return child([sys.executable, "-c", script, str(path)])


def run(n: int, count: int, cli_runs: int) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        made = timed(lambda: corpus.build_repo(Path(tmp) / "repo", n, seed=0, commits=5))
        path = Path(tmp) / "repo"
        memory = Memory(path)
        print(f"\n## {n} blocks (corpus repo built in {made:.1f} s)")

        full = min(timed(lambda: index.rebuild(memory)) for _ in range(2))
        print(f"full index build            {full:.2f} s")

        in_process = []
        for _ in range(5):
            change_one_block(memory, rng)
            start = time.perf_counter()
            status = index.catch_up(memory)
            in_process.append(time.perf_counter() - start)
            assert status.reindexed == 1 and not status.rebuilt, status
        fresh = []
        for _ in range(3):
            change_one_block(memory, rng)
            fresh.append(fresh_process_catch_up(path))
        catch_up = statistics.median(in_process)
        ratio = full / catch_up
        print(
            f"catch-up, 1 changed block   {ms(catch_up)} in process (median of 5); full build / catch-up {ratio:.0f}x"
        )
        wall, cpu = (statistics.median(x) for x in zip(*fresh, strict=True))
        print(f"catch-up in a fresh process {ms(wall)}, cpu {ms(cpu)} (interpreter and imports included)")
        noop = statistics.median(timed(lambda: index.catch_up(memory)) for _ in range(20))
        print(f"freshness check, no change  {ms(noop)}")

        queries = queries_for(memory, count, rng)
        for mode in MODES:
            recall(memory, queries[mode][0], mode=mode)  # warm the searcher, as a long-lived process would be
            wall, cpu = [], []
            for q in queries[mode]:
                began, began_cpu = time.perf_counter(), time.process_time()
                recall(memory, q, mode=mode)
                wall.append(time.perf_counter() - began)
                cpu.append(time.process_time() - began_cpu)
            p50, p95 = percentiles(wall)
            cpu50, cpu95 = percentiles(cpu)
            print(
                f"recall {mode:<20} p50 {ms(p50):>9}  p95 {ms(p95):>9}   cpu p50 {ms(cpu50):>9}  p95 {ms(cpu95):>9}"
                f"  ({count} queries)"
            )

        if cli_runs:
            mm = [sys.executable, "-m", "mindmem", "-C", str(path), "recall"]
            cli = [child([*mm, q]) for q in queries["similar"][:cli_runs]]
            wall, cpu = (statistics.median(x) for x in zip(*cli, strict=True))
            print(f"mm recall (CLI, new process) p50 {ms(wall)}, cpu {ms(cpu)} ({cli_runs} queries)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--cli", type=int, default=10, help="CLI runs per size (0 to skip)")
    args = parser.parse_args()
    print("# benchmarks/recall.py")
    for n in args.sizes:
        run(n, args.queries, args.cli)


if __name__ == "__main__":
    main()
