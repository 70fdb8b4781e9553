"""`mm list --json` in a new process: unchanged memory, and the first listing after each one-block edit.

    nice -n 10 python benchmarks/list_after_change.py REPO [--runs 7] [--verify]

REPO is a memory repo with a work tree (a `benchmarks/scale.py` corpus; the runs edit it, so use a
copy). Each "after an edit" run first changes the title of a different block in the work tree (what
a user does before listing), then times one `mm list --json`. Prints p50 of wall and CPU time (the
process and the git processes it ran) with the load average before and after. `--verify`: each
edited listing must equal, byte for byte, the one made from a fresh snapshot (`Memory.list`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from governance import MM, clean_env, percentile

from mindmem.store import blocks as b
from mindmem.store.memory import Memory


def timed_list(repo: Path) -> tuple[float, float, str]:
    """(wall, CPU of the child and its children, stdout) of one `mm list --json`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([MM, "list", "--json"], cwd=repo, capture_output=True, text=True, env=clean_env())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"mm list --json failed: {done.stderr.strip()}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout


def edit_title(path: Path, n: int) -> None:
    """Change the block's title, writing the file in place as an editor saving it would."""
    block = b.parse(path.read_bytes(), path.name)
    fields = {**block.to_mapping(), "title": f"{block.title} (edit {n})"}
    path.write_text(b.render(b.from_mapping(fields, block.body, "")))


def fresh_listing(repo: Path) -> str:
    """The listing as a snapshot read now gives it, sharing no kept listing text."""
    blocks = Memory(repo).list()
    return f"[{', '.join(json.dumps(blk.to_mapping(), ensure_ascii=False) for blk in blocks)}]\n"


def report(label: str, runs: list[tuple[float, float, str]]) -> None:
    walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
    print(
        f"{label}: wall p50 {percentile(walls, 50):.4f} s (min {min(walls):.4f}, max {max(walls):.4f}), "
        f"CPU p50 {percentile(cpus, 50):.4f} s, runs {len(runs)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--verify", action="store_true")
    args = parser.parse_args()
    repo = args.repo.resolve()
    memory = Memory(repo)
    paths = sorted((repo / memory.root / "notes").glob("N-*.md"))
    step = max(1, len(paths) // (args.runs + 1))
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    timed_list(repo)  # warm: the kept listing fits the work tree
    unchanged = [timed_list(repo) for _ in range(args.runs)]
    edited = []
    for n in range(args.runs):
        edit_title(paths[(n + 1) * step], int(time.time()))
        edited.append(timed_list(repo))
        if args.verify and edited[-1][2] != fresh_listing(repo):
            sys.exit(f"run {n}: the listing after the edit differs from a fresh one")
    report("unchanged", unchanged)
    report("first list after a one-block edit", edited)
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
