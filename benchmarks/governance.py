"""Governance speed: propose + signed approve, against the same flow done with the git CLI.

    python benchmarks/governance.py [--sizes 1000 10000] [--runs 15] [--cli-runs 5] [--profile]

For each size it builds a corpus repo (benchmarks/corpus.py, seed 0) in a temporary folder, puts it
in enforce mode with a fresh ssh key (no passphrase) as the one approver (git config
`user.signingkey` + `gpg.format ssh`, key in `.mindmem/allowed_signers` on main), and then times,
interleaved in the same repo so both see the same machine load:

- mm, in this process: a new block file is written into the work tree (not timed), then
  `propose_worktree` (what `mm propose -r …` does) and `approve` (what `mm approve P` does:
  checks, signed merge commit with ssh-keygen, compare-and-swap, work tree refresh);
- mm with `--file`: the block comes from a file outside the repo (`mm propose --file F`), then approve;
- the git CLI, real binary: the same file written, then `git checkout -b`, `git add`, `git commit`,
  `git checkout main`, `git merge --no-ff -S` (signed by the same key through ssh-keygen) and
  `git branch -D` (mm deletes the proposal branch too);
- the CLI as a user runs it (`--cli-runs`): `mm propose` + `mm approve` as two fresh processes.

Figures are p50/p95 (nearest rank) over the runs, printed as Markdown for docs/benchmarks.md.
Targets at 10k blocks: propose + approve ≤ 150 ms including the signature, and ≥ 5× faster than
the git CLI flow.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus

from mindmem import governance as gov
from mindmem.store import blocks as b
from mindmem.store import changes as ch
from mindmem.store.memory import Memory

TARGET_S = 0.150  # propose + signed approve at 10k blocks
TARGET_RATIO = 5.0  # times faster than the git CLI flow
# The module, not the function of the same name the package exports.
approving = importlib.import_module("mindmem.governance.approving")
MM = str(Path(sys.executable).with_name("mm"))
CHECKED: dict[str, Any] = {"check": True, "capture_output": True, "text": True}


def percentile(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def run(*cmd: str, cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)


def clean_env() -> dict[str, str]:
    """The environment a user's `mm` runs in: no git location variables, and Python's bytecode cache
    on (with PYTHONDONTWRITEBYTECODE set, every new process compiles mindmem from source: +0.3 s)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "PYTHONDONTWRITEBYTECODE"}


def signed_repo(folder: Path, n: int) -> Path:
    """A corpus repo in enforce mode whose one approver is a fresh ssh key, configured for mm and git alike."""
    path = corpus.build_repo(folder / f"memory-{n}", n, seed=0)
    key = folder / f"key-{n}"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", str(key), cwd=folder)
    for name, value in (
        ("user.name", "Bench Approver"),
        ("user.email", "bench@example.com"),
        ("gpg.format", "ssh"),
        ("user.signingkey", str(key)),
        ("gpg.ssh.allowedSignersFile", str(path / ".mindmem/allowed_signers")),
    ):
        run("git", "config", name, value, cwd=path)
    public = key.with_name(key.name + ".pub").read_text().split()
    with open(path / ".mindmem/allowed_signers", "a") as handle:
        handle.write(f'bench@example.com namespaces="git" {public[0]} {public[1]}\n')
    config = path / ".mindmem/config.toml"
    config.write_text(config.read_text().replace('mode = "detect_only"', 'mode = "enforce"'))
    run("git", "commit", "-q", "-m", "Benchmark: enforce mode, one approver", "--", ".mindmem", cwd=path)
    return path


def cpu_seconds() -> float:
    """CPU time of this process and of the children it waited for (git, ssh-keygen), user + system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Run:
    propose: float
    approve: float
    gate: float = 0.0  # the part of approve spent in the checks gate
    cpu: float = 0.0  # CPU of the whole flow, this process and its children

    @property
    def total(self) -> float:
        return self.propose + self.approve


class Flows:
    """The flows being compared, each writing one new block and ending with it approved on main."""

    def __init__(self, path: Path, scratch: Path) -> None:
        self.path = path
        self.scratch = scratch
        self.count = 0
        self.gate_times: list[float] = []
        gate = approving._gate

        def timed_gate(*args: Any, **kwargs: Any) -> Any:  # approve's checks gate, timed where it runs
            start = time.perf_counter()
            try:
                return gate(*args, **kwargs)
            finally:
                self.gate_times.append(time.perf_counter() - start)

        approving._gate = timed_gate

    def _block(self, flow: str) -> tuple[str, bytes]:
        self.count += 1
        when = b.now_utc()
        # A new ID each run, also on a corpus kept from earlier runs (the same ID again would be an edit).
        block_id = f"N-{when:%Y%m%d}-{os.urandom(3).hex()}"
        meta = {"id": block_id, "type": "note", "title": f"Benchmark note {self.count} ({flow})", "status": "active"}
        meta["created"] = b.format_time(when)
        block = b.from_mapping(meta, f"Written by the {flow} flow.", block_id)
        return f"memory/notes/{block_id}.md", b.render(block).encode()

    def _approve(self, started: tuple[float, float], pid: str) -> Run:
        middle = time.perf_counter()
        gov.approve(Memory(self.path), pid)
        end = time.perf_counter()
        return Run(middle - started[0], end - middle, self.gate_times[-1], cpu_seconds() - started[1])

    def mm_worktree(self) -> Run:
        rel, data = self._block("mm work tree")
        (self.path / rel).write_bytes(data)
        start = time.perf_counter(), cpu_seconds()
        proposal = gov.propose_worktree(Memory(self.path), rationale="benchmark: one new note")
        return self._approve(start, proposal.id)

    def mm_file(self) -> Run:
        rel, data = self._block("mm --file")
        source = self.scratch / Path(rel).name
        source.write_bytes(data)
        start = time.perf_counter(), cpu_seconds()
        memory = Memory(self.path)
        changes = ch.from_texts([(str(source), source.read_bytes())], memory.root)
        proposal = gov.propose(memory, changes, rationale="benchmark: one new note")
        return self._approve(start, proposal.id)

    def git_cli(self) -> Run:
        rel, data = self._block("git CLI")
        (self.path / rel).write_bytes(data)
        branch = f"proposals/bench-{self.count}"
        start, cpu = time.perf_counter(), cpu_seconds()
        run("git", "checkout", "-q", "-b", branch, cwd=self.path)
        run("git", "add", rel, cwd=self.path)
        run("git", "commit", "-q", "-m", "Add a benchmark note\n\nbenchmark: one new note", cwd=self.path)
        run("git", "checkout", "-q", "main", cwd=self.path)
        middle = time.perf_counter()
        run("git", "merge", "-q", "--no-ff", "-S", "-m", f"Approve {branch}", branch, cwd=self.path)
        run("git", "branch", "-q", "-D", branch, cwd=self.path)
        return Run(middle - start, time.perf_counter() - middle, cpu=cpu_seconds() - cpu)

    def mm_cli(self, *, file: bool = False) -> Run:
        """`mm propose` (from the work tree, or `--file`) and `mm approve` as two new processes."""
        rel, data = self._block("mm CLI")
        target = self.scratch / Path(rel).name if file else self.path / rel
        target.write_bytes(data)
        source = ["--file", str(target)] if file else []
        env = clean_env()
        start, cpu = time.perf_counter(), cpu_seconds()
        proposed = subprocess.run(
            [MM, "propose", "-r", "benchmark: one new note", *source], cwd=self.path, env=env, **CHECKED
        )
        middle = time.perf_counter()
        subprocess.run([MM, "approve", proposed.stdout.strip()], cwd=self.path, env=env, **CHECKED)
        return Run(middle - start, time.perf_counter() - middle, cpu=cpu_seconds() - cpu)


def check(path: Path) -> None:
    """The repo ends as it should: clean work tree, every approval signed by the approver, git agreeing."""
    status = subprocess.run(["git", "status", "--porcelain"], cwd=path, capture_output=True, text=True).stdout
    assert status == "", status
    head = subprocess.run(["git", "verify-commit", "main"], cwd=path, capture_output=True, text=True)
    assert head.returncode == 0, head.stderr
    branches = subprocess.run(["git", "branch", "--list", "proposals/*"], cwd=path, capture_output=True, text=True)
    assert branches.stdout == "", branches.stdout


def measure(n: int, runs: int, cli_runs: int, folder: Path, profile: bool) -> dict[str, list[Run]]:
    started = time.perf_counter()
    path = signed_repo(folder, n)
    print(f"  built {n:,} blocks in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    flows = Flows(path, folder)
    steps: dict[str, Callable[[], Run]] = {
        "mm": flows.mm_worktree,
        "mm --file": flows.mm_file,
        "git CLI": flows.git_cli,
    }
    for step in steps.values():  # once, untimed: page cache, imports, the checks cache of a new clone
        step()
    results: dict[str, list[Run]] = {name: [] for name in [*steps, "mm CLI"]}
    for _ in range(runs):  # interleaved, so every flow sees the same machine load
        for name, step in steps.items():
            results[name].append(step())
    for _ in range(cli_runs):
        results["mm CLI"].append(flows.mm_cli())
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(flows.mm_worktree)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    check(path)
    return results


def table(results: dict[int, dict[str, list[Run]]]) -> str:
    lines = [
        "| flow | blocks | runs | propose p50 | approve p50 (checks gate) | total p50 | total p95 | git CLI ÷ this "
        "| target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, flows in results.items():
        git_p50 = percentile([r.total for r in flows["git CLI"]], 50)
        for name, found in flows.items():
            if not found:
                continue
            total = [r.total for r in found]
            p50, p95 = percentile(total, 50), percentile(total, 95)
            gate = f" ({ms(percentile([r.gate for r in found], 50))})" if name in ("mm", "mm --file") else ""
            approve = ms(percentile([r.approve for r in found], 50)) + gate
            ratio = f"{git_p50 / p50:.1f}×" if name != "git CLI" else ""
            target = ""
            if name in ("mm", "mm --file") and n >= 10_000:
                met = p95 <= TARGET_S and git_p50 / p50 >= TARGET_RATIO
                target = f"≤ {TARGET_S * 1000:.0f} ms, ≥ {TARGET_RATIO:.0f}× " + ("(met)" if met else "(MISSED)")
            propose = ms(percentile([r.propose for r in found], 50))
            cells = [name, f"{n:,}", str(len(found)), propose, approve, ms(p50), ms(p95), ratio, target]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cli-runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one mm propose + approve")
    args = parser.parse_args()
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}", file=sys.stderr)
    results = {}
    with tempfile.TemporaryDirectory(prefix="mm-bench-gov-") as tmp:
        for n in args.sizes:
            results[n] = measure(n, args.runs, args.cli_runs, Path(tmp), args.profile)
    print(table(results))


if __name__ == "__main__":
    main()
