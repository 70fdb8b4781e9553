"""Scale: every figure of the scale targets at 1k, 10k and 100k blocks, beside the git CLI where it has one.

    nice -n 10 python benchmarks/scale.py [--sizes 1000 10000 100000] [--runs 15] [--skip build] [--split-index]

Corpora (benchmarks/corpus.py, seed 0, in enforce mode with a fresh ssh key as the one approver, as
benchmarks/governance.py builds them) are made once and kept in `$MM_SCALE_DIR` (default: the
temporary folder, `mm-scale/`): 100k blocks take several minutes to generate. Runs add approved
notes to them, which is a few dozen blocks on 100,000 and changes nothing measured.

Per size, in this order (the index must exist before recall and catch-up are timed):

- propose + signed approve of one new block, in process (`propose_worktree` + `approve`, what
  `mm propose` + `mm approve` do; and `propose` of a block file + `approve`, what `mm propose --file`
  + `mm approve` do), and the `--file` flow as two new `mm` processes, against `git checkout -b` +
  `git add` + `git commit` + `git checkout main` + `git merge --no-ff -S` + `git branch -D` on the
  same repo, interleaved; with the CPU time of each flow (this process and its children);
- `mm check --staged` with one new block staged (a new process, what the pre-commit hook runs);
- `mm list --json` in a new process (work tree), unchanged and after a one-block change, against
  `git ls-tree -r HEAD -- memory`;
  the first run after the derived caches are removed is shown apart ("first");
- the full index build in a child process, with its peak memory (ru_maxrss);
- one-block index catch-up in process, after a commit that edits one block;
- recall similar in process, on block titles, first use as `recall_timing.py` defines it (CPU time and
  the same titles asked again in the notes), against `git grep -F -l TITLE HEAD -- memory`;
- `mm --help` in a new process, against `git --help`.

Figures are p50 / p95 (nearest rank). The output is a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from governance import MM, Flows, Run, approving, clean_env, percentile, run, signed_repo
from recall_timing import first_use_and_again, title_questions

from mindmem.search import index
from mindmem.search.recall import recall
from mindmem.store import blocks as b
from mindmem.store import gitdir
from mindmem.store.memory import Memory
from mindmem.store.repo import Person

QUIET: dict[str, Any] = {"capture_output": True}
CHECK_IMPORTS = "import mindmem.cli, mindmem.checks, mindmem.checks.sources, mindmem.checks.registry"
STEPS = ("approve", "check", "list", "build", "catchup", "recall", "help")
READY = "scale-ready"  # written into a corpus folder once it is fully built
PERSON = Person("Scale Bench", "scale@example.com")
# (operation, target at 100k in seconds or None)
TARGETS = {
    "propose + signed approve": 0.250,
    "propose --file + signed approve": 0.250,
    "mm check --staged (one block)": 0.300,
    "mm list --json, new process": 2.0,
    "recall similar, in process": 0.015,
    "one-block index catch-up": 0.100,
    "full index build": 120.0,
    "mm --help, new process": 0.150,
}


@dataclass(frozen=True)
class Figure:
    operation: str
    blocks: int
    times: tuple[float, ...]
    git: tuple[float, ...] = ()
    git_label: str = ""
    note: str = ""

    @property
    def p50(self) -> float:
        return percentile(list(self.times), 50)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def child(*cmd: str, cwd: Path) -> float:
    return timed(lambda: subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=clean_env()))


def corpus_repo(folder: Path, n: int) -> Path:
    """The signed corpus repo of `n` blocks, built once and reused across runs."""
    path = folder / f"memory-{n}"
    if (folder / f"{READY}-{n}").exists():
        return path
    for stale in (path, folder / f"key-{n}", folder / f"key-{n}.pub"):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink(missing_ok=True)
    started = time.perf_counter()
    signed_repo(folder, n)
    (folder / f"{READY}-{n}").write_text("")
    print(f"  built {n:,} blocks in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


@contextlib.contextmanager
def split_index(path: Path, on: bool) -> Iterator[None]:
    """With `on`, the checkout's index split while the steps run (docs/governance.md, "Large memory
    repos"), for mm and git alike; the corpus is put back as it was after."""
    if not on:
        yield
        return
    run("git", "config", "core.splitIndex", "true", cwd=path)
    run("git", "update-index", "--split-index", cwd=path)
    try:
        yield
    finally:
        run("git", "config", "--unset", "core.splitIndex", cwd=path)
        run("git", "update-index", "--no-split-index", cwd=path)


def new_note(path: Path, label: str, count: int) -> str:
    """Write a new note into the work tree; return its path relative to the repo."""
    when = b.now_utc()
    block_id = f"N-{when:%Y%m%d}-{(time.time_ns() // 1000 + count) % 0xFFFFFF:06x}"
    meta = {"id": block_id, "type": "note", "title": f"Scale note {count} ({label})", "status": "active"}
    meta["created"] = b.format_time(when)
    rel = f"memory/notes/{block_id}.md"
    (path / rel).write_bytes(b.render(b.from_mapping(meta, f"Written by {label}.", block_id)).encode())
    return rel


def approve_flow(path: Path, n: int, runs: int) -> list[Figure]:
    # The `--file` flows' block files go to a folder of their own, removed after (not beside the corpora).
    with tempfile.TemporaryDirectory(prefix="mm-scale-blocks-") as scratch:
        return _approve_flow(Flows(path, Path(scratch)), n, runs)


def _approve_flow(flows: Flows, n: int, runs: int) -> list[Figure]:
    catch_ups: list[float] = []
    keep_in_step = approving.keep_in_step

    def timed_catch_up(memory: Memory) -> bool:  # approve keeps an existing search index in step
        start = time.perf_counter()
        try:
            return keep_in_step(memory)
        finally:
            catch_ups.append(time.perf_counter() - start)

    approving.keep_in_step = timed_catch_up
    flows.mm_worktree()  # once, untimed: imports, page cache, the derived caches of this checkout
    flows.mm_file()
    flows.git_cli()
    steps = {
        "mm": flows.mm_worktree,
        "mm --file": flows.mm_file,
        "git": flows.git_cli,
        "cli": functools.partial(flows.mm_cli, file=True),
    }
    found: dict[str, list[Run]] = {name: [] for name in steps}
    for _ in range(runs):  # interleaved, so all see the same machine load
        for name, step in steps.items():
            found[name].append(step())
    approving.keep_in_step = keep_in_step
    gate, catch_up = percentile(flows.gate_times[2::2], 50), percentile(catch_ups[2::2], 50)
    note = f"approve's checks gate p50 {gate * 1000:.0f} ms, search index catch-up p50 {catch_up * 1000:.0f} ms"
    flow = "checkout -b, add, commit, checkout, merge --no-ff -S, branch -D"
    git = tuple(r.total for r in found["git"])
    cpu_git = percentile([r.cpu for r in found["git"]], 50) * 1000

    def figure(operation: str, name: str, what: str) -> Figure:
        cpu = f"CPU p50 {percentile([r.cpu for r in found[name]], 50) * 1000:.1f} ms (git's {cpu_git:.0f} ms); "
        return Figure(operation, n, tuple(r.total for r in found[name]), git, flow, cpu + what)

    return [
        figure("propose + signed approve", "mm", note + "; work tree (git status)"),
        figure("propose --file + signed approve", "mm --file", "the block from a file"),
        figure("mm propose --file + mm approve, new processes", "cli", "two `mm` processes, start-up included"),
    ]


def check_staged(path: Path, n: int, runs: int) -> list[Figure]:
    times, floor = [], []
    for i in range(runs + 1):
        rel = new_note(path, "check --staged", i)
        run("git", "add", rel, cwd=path)
        took = child(MM, "check", "--staged", cwd=path)
        # What no change in mindmem's own work goes below, timed beside each run (same machine load):
        # a new process that only loads the modules `mm check --staged` loads, then exits.
        alone = child(sys.executable, "-c", CHECK_IMPORTS, cwd=path)
        run("git", "rm", "-q", "--cached", rel, cwd=path)
        (path / rel).unlink()
        if i:  # the first run fills the caches of this checkout
            times.append(took)
            floor.append(alone)
    note = f"start-up and imports alone (no work): p50 {fmt(percentile(floor, 50))}"
    return [Figure("mm check --staged (one block)", n, tuple(times), note=note)]


def list_json(path: Path, n: int, runs: int) -> list[Figure]:
    memory = Memory(path)
    shutil.rmtree(gitdir.root(memory.git) / "checks", ignore_errors=True)
    shutil.rmtree(gitdir.root(memory.git) / "blocks", ignore_errors=True)
    first = child(MM, "list", "--json", cwd=path)
    times = tuple(child(MM, "list", "--json", cwd=path) for _ in range(runs))
    git = tuple(child("git", "ls-tree", "-r", "HEAD", "--", "memory", cwd=path) for _ in range(runs))
    note = f"first run, derived caches removed: {first:.2f} s"
    changed = []
    for i in range(runs):  # the kept listing no longer fits: the rows of unchanged blocks do
        rel = new_note(path, "list", i)
        changed.append(child(MM, "list", "--json", cwd=path))
        (path / rel).unlink()
    return [
        Figure("mm list --json, new process", n, times, git, "git ls-tree -r HEAD -- memory", note),
        Figure("mm list --json after a one-block change", n, tuple(changed), git, "git ls-tree -r HEAD -- memory"),
    ]


# The build's own peak is VmHWM, the high-water mark of its own memory: Linux keeps the parent's resident
# size at the fork in ru_maxrss across exec, so a child of this (large) process reported this process's
# peak, not its own. The workers' ru_maxrss has the same flaw, so it is an upper bound.
BUILD = """
import re, resource, sys, time
from mindmem.store.memory import Memory
from mindmem.search import index
start = time.perf_counter()
index.rebuild(Memory(sys.argv[1]))
own, workers = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
cpu = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
try:
    with open("/proc/self/status") as status:
        peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read())[1])
except (OSError, TypeError):
    peak = own.ru_maxrss
print(time.perf_counter() - start, cpu, peak, workers.ru_maxrss)
"""


def full_build(path: Path, n: int, runs: int) -> list[Figure]:
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(path)], check=True, capture_output=True, text=True, env=clean_env()
    )
    took, cpu, peak_kib, worker_kib = done.stdout.split()
    # A large build writes its segments in worker processes beside this one (search/bulk.py).
    note = (
        f"CPU {float(cpu):.1f} s (all processes), peak memory {int(peak_kib) / 1024:.0f} MiB"
        f" + at most {int(worker_kib) / 1024:.0f} MiB per worker"
    )
    return [Figure("full index build", n, (float(took),), note=note)]


def catch_up(path: Path, n: int, runs: int) -> list[Figure]:
    memory = Memory(path)
    index.catch_up(memory)
    rng = random.Random(7)
    ids = sorted(i for i in memory.snapshot("HEAD").paths if i[0] in "NF")
    times = []
    for _ in range(max(5, runs // 3)):
        block = memory.get(rng.choice(ids), at="HEAD")
        edited = b.from_mapping(block.to_mapping(), block.body + f"\n\nEdited {time.time_ns()}.", "scale")
        rel = f"{memory.root}/{b.block_relpath(edited)}"
        memory.git.commit_files(memory.settings.governed_branch, {rel: b.render(edited).encode()}, "edit", PERSON)
        (path / rel).write_bytes(b.render(edited).encode())
        memory.git.stage_paths([rel])
        status = None

        def step() -> None:
            nonlocal status
            status = index.catch_up(memory)

        times.append(timed(step))
        assert status is not None and status.reindexed == 1 and not status.rebuilt, status
    return [Figure("one-block index catch-up", n, tuple(times))]


def recall_similar(path: Path, n: int, runs: int) -> list[Figure]:
    memory = Memory(path)
    warm_up, queries = title_questions(memory)
    first, again = first_use_and_again(lambda q: recall(memory, q), warm_up, queries)
    git = tuple(
        timed(lambda q=q: subprocess.run(["git", "grep", "-F", "-l", q, "HEAD", "--", "memory"], cwd=path, **QUIET))
        for q in queries[:runs]
    )
    note = (
        f"first use (recall_timing.py); CPU p50 {first.p(50, cpu=True) * 1000:.1f} ms, p95 "
        f"{first.p(95, cpu=True) * 1000:.1f} ms; asked again p50 {again.p(50) * 1000:.1f} ms"
    )
    return [Figure("recall similar, in process", n, first.wall, git, "git grep -F -l TITLE HEAD -- memory", note)]


def help_cold(path: Path, n: int, runs: int) -> list[Figure]:
    times = tuple(child(MM, "--help", cwd=path) for _ in range(runs))
    git = tuple(child("git", "--help", cwd=path) for _ in range(runs))
    return [Figure("mm --help, new process", n, times, git, "git --help")]


MEASURES: dict[str, Callable[[Path, int, int], list[Figure]]] = {
    "approve": approve_flow,
    "check": check_staged,
    "list": list_json,
    "build": full_build,
    "catchup": catch_up,
    "recall": recall_similar,
    "help": help_cold,
}


def fmt(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def table(figures: list[Figure]) -> str:
    lines = [
        "| operation | blocks | runs | p50 | p95 | git CLI p50 | git ÷ mm | target at 100k | notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    first = {f.operation: f.p50 for f in figures if f.blocks == 1000}
    for f in figures:
        p50, p95 = f.p50, percentile(list(f.times), 95)
        git = f"{fmt(percentile(list(f.git), 50))} ({f.git_label})" if f.git else "—"
        ratio = f"{percentile(list(f.git), 50) / p50:.1f}×" if f.git else ""
        target = ""
        if f.blocks >= 100_000 and (limit := TARGETS.get(f.operation)) is not None:
            met = p50 <= limit
            if f.operation.startswith("propose"):
                small = first.get(f.operation)
                met = met and percentile(list(f.git), 50) / p50 >= 3
                verdict = (
                    ("met" if met else "MISSED")
                    if small is None
                    else ("met" if met and p50 <= 1.5 * small else "MISSED")
                )
                target = f"≤ {fmt(limit)}, ≤ 1.5× 1k, ≥ 3× git: {verdict}" + (
                    " (1k not in this run)" if small is None else ""
                )
            else:
                target = f"≤ {fmt(limit)}: " + ("met" if met else "MISSED")
        cells = [f.operation, f"{f.blocks:,}", str(len(f.times)), fmt(p50), fmt(p95), git, ratio, target, f.note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--skip", nargs="*", default=[], choices=STEPS, help="steps to leave out")
    parser.add_argument("--split-index", action="store_true", help="time every corpus with its git index split")
    args = parser.parse_args()
    folder = Path(os.environ.get("MM_SCALE_DIR") or Path(tempfile.gettempdir()) / "mm-scale")
    folder.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}", file=sys.stderr)
    figures: list[Figure] = []
    for n in args.sizes:
        path = corpus_repo(folder, n)
        with split_index(path, args.split_index):
            for step in STEPS:
                if step not in args.skip:
                    found = MEASURES[step](path, n, args.runs)
                    figures += found
                    for row in table(found).splitlines()[2:]:  # as it comes, in case a long run is stopped
                        print(f"  {row}", file=sys.stderr, flush=True)
    if args.split_index:
        print("every corpus with its git index split (core.splitIndex)\n")
    print(table(figures))
    after = os.getloadavg()
    print(
        f"\nload average (1, 5, 15 min) at start {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
        f"at end {after[0]:.1f} {after[1]:.1f} {after[2]:.1f}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"this process's peak memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()
