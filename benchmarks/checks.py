"""How long `mm check` takes: a full check of every block against an incremental check of one touched block.

    python benchmarks/checks.py [--sizes 1000 10000] [--repeat 5]

For each size it builds a corpus repo (benchmarks/corpus.py), then measures, as
separate processes the way a user runs them (median wall clock of --repeat runs):

- `mm check --all` in the work tree, with a cold cache (first run) and a warm one;
- `mm check --staged` with one staged block;
- the pre-commit hook with one staged block (`python -m mindmem hook-impl pre-commit`,
  what the installed shim runs), and a whole `git commit` with the hook installed;

and in-process (library calls, no interpreter start-up) the full and the incremental
check, whose ratio is the point of the incremental design.
"""

from __future__ import annotations

import argparse
import os
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


def wall(cmd: list[str], cwd: Path, repeat: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def in_process(repo: Path, repeat: int, **kwargs: object) -> float:
    from mindmem.checks import context_for, run_checks
    from mindmem.store.memory import Memory

    memory = Memory(repo)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run_checks(context_for(memory, **kwargs))
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def touch_one(repo: Path) -> Path:
    """Stage an edit of one decision (a new title), as someone about to commit would."""
    path = sorted((repo / "memory/decisions").glob("*.md"))[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\ntitle: ", "\ntitle: Revised ", 1), encoding="utf-8")
    subprocess.run(["git", "add", str(path)], cwd=repo, check=True)
    return path


def measure(n: int, repeat: int, folder: Path) -> dict[str, float]:
    repo = folder / f"repo-{n}"
    began = time.perf_counter()
    corpus.build_repo(repo, n)
    print(f"built {n} blocks in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    shutil.rmtree(repo / ".git/mindmem/checks", ignore_errors=True)
    out = {"full, cold cache": wall([*MM, "check", "--all"], repo, 1)}
    out["full"] = wall([*MM, "check", "--all"], repo, repeat)
    touch_one(repo)
    out["staged, one block"] = wall([*MM, "check", "--staged"], repo, repeat)
    hook_env = {**os.environ, "GIT_INDEX_FILE": ".git/index"}
    out["pre-commit hook, one block"] = wall([*MM, "hook-impl", "pre-commit"], repo, repeat, hook_env)
    out["in-process full"] = in_process(repo, repeat, full=True)
    out["in-process incremental"] = in_process(repo, repeat, staged=True)
    subprocess.run([*MM, "hooks", "install"], cwd=repo, check=True, stdout=subprocess.DEVNULL)
    began = time.perf_counter()
    # gc.auto=0: pygit2 left thousands of loose objects and git would start a background gc here.
    subprocess.run(["git", "-c", "gc.auto=0", "commit", "-q", "-m", "Revise one decision"], cwd=repo, check=True)
    out["git commit with the hooks"] = time.perf_counter() - began
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        results = {n: measure(n, args.repeat, Path(tmp)) for n in args.sizes}
    rows = list(next(iter(results.values())))
    print(f"| measurement | {' | '.join(f'{n} blocks' for n in args.sizes)} |")
    print(f"| --- | {' | '.join('---' for _ in args.sizes)} |")
    for row in rows:
        print(f"| {row} | {' | '.join(f'{results[n][row] * 1000:.0f} ms' for n in args.sizes)} |")
    ratios = " | ".join(
        f"{results[n]['in-process full'] / results[n]['in-process incremental']:.0f}x" for n in args.sizes
    )
    print(f"| full / incremental (in-process) | {ratios} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
