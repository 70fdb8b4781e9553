"""How long `mm review` takes on a large change: an import of N blocks reviewed as a range.

    python benchmarks/review.py [--n 5000] [--repeat 3]

Builds a corpus repo (benchmarks/corpus.py) whose second commit adds N blocks, then times,
as separate processes the way CI runs them, with Python's bytecode cache on (median wall clock and
CPU of --repeat runs, after one run that warms the blob-keyed check cache), `mm review HEAD~1..HEAD` as the pull-request
comment (`--format markdown --max-chars 60000`), as full Markdown and as JSON, and prints
the size of each output, showing the comment fits GitHub's 65,536-character limit.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus

MM = [sys.executable, "-m", "mindmem"]
RANGE = "HEAD~1..HEAD"
# As a user's `mm` runs: with PYTHONDONTWRITEBYTECODE set every process compiles mindmem from source.
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
RUNS = {
    "comment (--max-chars 60000)": ["review", RANGE, "--format", "markdown", "--max-chars", "60000"],
    "full markdown": ["review", RANGE, "--format", "markdown"],
    "json": ["review", RANGE, "--json"],
}


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(args: list[str], cwd: Path, repeat: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of `mm ARGS` (CPU is what the run itself costs on a busy machine)."""
    times, cpu, size = [], [], 0
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), _cpu()
        done = subprocess.run([*MM, *args], cwd=cwd, capture_output=True, text=True, check=True, env=USER_ENV)
        times.append(time.perf_counter() - began)
        cpu.append(_cpu() - began_cpu)
        size = len(done.stdout)
    return statistics.median(times), statistics.median(cpu), size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="mm-review-bench-"))
    try:
        repo = corpus.build_repo(folder / "repo", args.n, seed=1, commits=1)
        cold, cold_cpu, _ = timed(RUNS["comment (--max-chars 60000)"], repo, 1)
        print(
            f"{args.n} blocks added in one commit; first review (cold check cache): {cold:.2f} s ({cold_cpu:.2f} s CPU)"
        )
        print(f"load average {os.getloadavg()[0]:.1f}; median of {args.repeat}: wall, CPU, output size")
        for label, run in RUNS.items():
            seconds, cpu, size = timed(run, repo, args.repeat)
            print(f"  {label:<28} {seconds:6.2f} s  {cpu:6.2f} s CPU  {size:>10,} characters")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
