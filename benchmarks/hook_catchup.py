"""The search index's one-block catch-up in a new process: the git post-commit hook, and `mm approve`.

    python benchmarks/hook_catchup.py REPO [--runs 9] [--code LABEL=FOLDER ...]

REPO is a memory repo with a search index (a copy: runs add commits to its governed branch), signed
approvals configured for git (user.signingkey) as `benchmarks/scale.py` makes them. Each run, in a new
process each, as a user's machine runs them:

- `hook`: one block file edited and committed with `git commit` with hooks off, then
  `python -m mindmem hook-impl post-commit` alone (what git's post-commit shim runs);
- `hook, other branch`: the same hook after a commit to another branch (the index has nothing to do);
- `git commit`: one block edited and committed with mm's hooks (installed first, `mm hooks install`;
  pre-commit's check and post-commit's catch-up included);
- `propose + approve`: `mm propose --file` of one edited block, then `mm approve` of it (two processes);
  `approve` alone beside it.

Wall and CPU time (user + system of the child processes) are printed as p50 over the runs, with the load
average before and after. `--code LABEL=FOLDER` (repeatable) runs mindmem from another source tree
(put first on PYTHONPATH), alternating run by run, so two versions are compared under the same load.
The versions must agree on the caches kept in the git dir (parsed blocks, check keys): where one
rejects what the other wrote, every run rebuilds them and the comparison measures that instead.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from governance import clean_env

FLOWS = ("hook", "hook, other branch", "git commit", "propose + approve", "approve")


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def env_for(code: str | None) -> dict[str, str]:
    """A user's environment (`governance.clean_env`), with mindmem from the source tree `code`."""
    return {**clean_env(), "PYTHONPATH": code} if code else clean_env()


def run(args: list[str], repo: Path, env: dict[str, str]) -> str:
    return subprocess.run(args, cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def timed(args: list[str], repo: Path, env: dict[str, str]) -> tuple[float, float, str]:
    wall, cpu = time.perf_counter(), children_cpu()
    out = run(args, repo, env)
    return time.perf_counter() - wall, children_cpu() - cpu, out


def edit(repo: Path, tag: str) -> Path:
    """Append a line to one note (the same note each time: one block changes per run)."""
    path = sorted((repo / "memory" / "notes").glob("N-*.md"))[0]
    path.write_text(path.read_text(encoding="utf-8") + f"\n- benchmark edit {tag}\n", encoding="utf-8")
    return path


def one_run(repo: Path, env: dict[str, str], tag: str, scratch: Path) -> dict[str, tuple[float, float]]:
    mm = [sys.executable, "-m", "mindmem"]
    out: dict[str, tuple[float, float]] = {}
    edit(repo, f"{tag} hook")
    run(["git", "-c", "core.hooksPath=/dev/null", "commit", "-q", "-a", "-m", "benchmark: hook"], repo, env)
    out["hook"] = timed([*mm, "hook-impl", "post-commit"], repo, env)[:2]
    governed = run(["git", "symbolic-ref", "--short", "HEAD"], repo, env).strip()
    quiet = ["git", "-c", "core.hooksPath=/dev/null"]
    run([*quiet, "checkout", "-q", "-B", "mm-benchmark-side"], repo, env)
    run([*quiet, "commit", "-q", "--allow-empty", "-m", "benchmark: another branch"], repo, env)
    out["hook, other branch"] = timed([*mm, "hook-impl", "post-commit"], repo, env)[:2]
    run([*quiet, "checkout", "-q", governed], repo, env)
    edit(repo, f"{tag} commit")
    out["git commit"] = timed(["git", "commit", "-q", "-a", "-m", "benchmark: git commit"], repo, env)[:2]
    # The block is edited outside the work tree and proposed from that file, as `mm propose --file` does.
    source = edit(repo, f"{tag} propose")
    moved = scratch / source.name
    moved.write_bytes(source.read_bytes())
    run(["git", "checkout", "-q", "--", str(source)], repo, env)
    wall, cpu, proposal = timed([*mm, "propose", "-r", "benchmark: one edit", "--file", str(moved)], repo, env)
    out["approve"] = timed([*mm, "approve", proposal.strip()], repo, env)[:2]
    out["propose + approve"] = (wall + out["approve"][0], cpu + out["approve"][1])
    head = run(["git", "rev-parse", "HEAD"], repo, env).strip()
    common = repo / run(["git", "rev-parse", "--git-common-dir"], repo, env).strip()
    if head not in (common / "mindmem" / "index" / "current" / "state.json").read_text(encoding="utf-8"):
        raise SystemExit("the index did not catch up with the approval")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--code", action="append", default=[], help="LABEL=FOLDER: mindmem from FOLDER")
    args = parser.parse_args()
    codes = [tuple(c.split("=", 1)) for c in args.code] or [("this", "")]
    repo = args.repo.resolve()
    run([sys.executable, "-m", "mindmem", "hooks", "install"], repo, env_for(None))  # the shims `git commit` runs
    print(f"# load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    times: dict[str, dict[str, list[tuple[float, float]]]] = {label: {f: [] for f in FLOWS} for label, _ in codes}
    with tempfile.TemporaryDirectory(prefix="mm-hook-catchup-") as scratch:
        for n in range(args.runs + 1):  # the first round warms the file cache and is not counted
            for label, code in codes:
                found = one_run(repo, env_for(code), f"{label}-{n}-{time.time_ns()}", Path(scratch))
                for flow, pair in found.items():
                    if n:
                        times[label][flow].append(pair)
    print(f"# load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for label, _ in codes:
        for flow in FLOWS:
            walls, cpus = zip(*times[label][flow], strict=True)
            print(
                f"{label:>8}  {flow:<18} wall p50 {statistics.median(walls) * 1000:8.1f} ms"
                f"  cpu p50 {statistics.median(cpus) * 1000:8.1f} ms  ({len(walls)} runs)"
            )


if __name__ == "__main__":
    main()
