"""Load speed: reading every block at HEAD from git objects, and `mm` cold start.

    python benchmarks/load.py [--sizes 1000 10000] [--runs 10] [--cli-runs 20] [--profile]

For each size it builds a corpus repo (benchmarks/corpus.py, seed 0) in a temporary folder and
times, in this process: `Memory(path).snapshot("HEAD")` (what `mm list --at HEAD` reads), the
same read split into its parts (walking the tree and reading blobs; parsing the bytes), the
work-tree read (`snapshot()`, what `mm list` reads), and the git binary reading the same blobs
(`git ls-tree` + `git cat-file --batch`). Then, as fresh processes: `python -c pass`,
`mm --help` and `mm list --json`. Figures are p50/p95 (nearest rank) over the runs, printed as
a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import math
import os
import platform
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus

from mindmem.store.blocks import parse
from mindmem.store.memory import Memory

SNAPSHOT_TARGET_S = 1.0  # all blocks at HEAD, 10k blocks
HELP_TARGET_S = 0.150  # `mm --help`


@dataclass(frozen=True)
class Timing:
    wall: list[float]
    cpu: list[float]  # this process, or the child processes for the cold-start rows


@dataclass(frozen=True)
class Row:
    what: str
    blocks: int | None
    timing: Timing
    target: float | None = None
    per_block: bool = True

    def cells(self) -> list[str]:
        p50, p95 = percentile(self.timing.wall, 50), percentile(self.timing.wall, 95)
        per_block = f"{p50 / self.blocks * 1e6:.0f} µs" if self.blocks and self.per_block else ""
        target = ""
        if self.target is not None:
            target = f"≤ {self.target * 1000:.0f} ms " + ("(met)" if p95 <= self.target else "(MISSED)")
        blocks = f"{self.blocks:,}" if self.blocks else ""
        cpu = ms(percentile(self.timing.cpu, 50))
        return [self.what, blocks, str(len(self.timing.wall)), ms(p50), ms(p95), cpu, per_block, target]


def percentile(times: list[float], pct: float) -> float:
    ordered = sorted(times)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: robust to other load on the machine."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], object], runs: int) -> Timing:
    fn()  # warm the OS file cache and libgit2's object cache once, like a second command would
    timing = Timing([], [])
    for _ in range(runs):
        wall, cpu = time.perf_counter(), cpu_seconds()
        fn()
        timing.cpu.append(cpu_seconds() - cpu)
        timing.wall.append(time.perf_counter() - wall)
    return timing


def git_batch_read(path: Path, root: str) -> int:
    """Read every block blob with the git binary: the floor for 'read all the bytes'."""
    tree = subprocess.run(
        ["git", "-C", str(path), "ls-tree", "-r", "HEAD", f"{root}/"], capture_output=True, text=True, check=True
    ).stdout
    ids = "".join(line.split()[2] + "\n" for line in tree.splitlines() if line.endswith(".md"))
    out = subprocess.run(
        ["git", "-C", str(path), "cat-file", "--batch"], input=ids.encode(), capture_output=True, check=True
    ).stdout
    return len(out)


def in_process(path: Path, n: int, runs: int) -> list[Row]:
    mem = Memory(path)
    head = mem.git.resolve("HEAD")
    blobs = list(mem.git.iter_files(head, mem.root))
    assert len(mem.snapshot("HEAD")) == n

    def parse_all() -> None:
        for rel, data in blobs:
            if rel.endswith(".md") and not rel.endswith("README.md"):
                parse(data, rel)

    target = SNAPSHOT_TARGET_S if n == 10_000 else None
    return [
        Row('Memory(path).snapshot("HEAD")', n, timed(lambda: Memory(path).snapshot("HEAD"), runs), target),
        Row("  part: walk tree, read blobs (pygit2)", n, timed(lambda: list(mem.git.iter_files(head, mem.root)), runs)),
        Row("  part: parse the bytes (blocks.parse)", n, timed(parse_all, runs)),
        Row("baseline: git ls-tree + cat-file --batch", n, timed(lambda: git_batch_read(path, mem.root), runs)),
        Row("work tree: Memory(path).snapshot()", n, timed(lambda: Memory(path).snapshot(), runs)),
    ]


def cold(cmd: list[str], runs: int) -> Timing:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}

    def once() -> None:
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    return timed(once, runs)


def mm_command() -> list[str]:
    script = Path(sys.executable).with_name("mm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mindmem"]


def machine() -> str:
    ram = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        ram = f", {kib / 1024 / 1024:.0f} GiB RAM"
    system = f"{platform.system()} {platform.release()} {platform.machine()}"
    with contextlib.suppress(OSError, KeyError):
        system += f" ({platform.freedesktop_os_release()['PRETTY_NAME']})"
    return f"{os.cpu_count()} cores{ram}, Python {platform.python_version()}, {system}"


def profile(path: Path) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    Memory(path).snapshot("HEAD")
    profiler.disable()
    print("\n```")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)
    print("```")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=10, help="in-process runs per measurement")
    parser.add_argument("--cli-runs", type=int, default=20, help="subprocess runs per command")
    parser.add_argument("--profile", action="store_true", help="cProfile one snapshot at the largest size")
    args = parser.parse_args()

    rows: list[Row] = []
    mm = mm_command()
    with tempfile.TemporaryDirectory() as tmp:
        repos = {}
        for n in args.sizes:
            began = time.perf_counter()
            repos[n] = corpus.build_repo(Path(tmp) / f"repo-{n}", n, seed=0)
            print(f"built a {n}-block repo in {time.perf_counter() - began:.1f} s", file=sys.stderr)
            rows += in_process(repos[n], n, args.runs)
        rows.append(Row("cold: python -c pass", None, cold([sys.executable, "-c", "pass"], args.cli_runs)))
        rows.append(Row("cold: mm --help", None, cold([*mm, "--help"], args.cli_runs), HELP_TARGET_S))
        for n, path in repos.items():
            times = cold([*mm, "-C", str(path), "list", "--json"], args.cli_runs)
            rows.append(Row("cold: mm list --json", n, times, per_block=False))
        if args.profile:
            profile(repos[max(repos)])

    print(f"# benchmarks/load.py, {date.today().isoformat()}\n")
    print(f"Machine: {machine()}.\n")
    header = ["measurement", "blocks", "runs", "p50", "p95", "CPU p50", "per block (p50)", "target (p95)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")


if __name__ == "__main__":
    main()
