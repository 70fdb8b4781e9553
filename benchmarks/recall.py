"""Index and recall speed: full build, catch-up after a one-block commit, query latency per mode, and
recall beside a naive scan and (when installed) the `mind-mem` package on the same blocks.

Corpora come from benchmarks/corpus.py (committed repos). For each size:
- full index build (`index.rebuild`), best of 2;
- catch-up after a commit that changes one block: in process (what the tool does after its own
  commits) and in a fresh process (what a git hook pays, interpreter start and imports included);
  the ratio is full build / in-process catch-up;
- recall p50/p95 per mode, in process, on queries made from the corpus (block titles for
  similar/intent/bundle, fact statements for verify, incident titles for diagnose), as wall
  time and as CPU time of this process (on a shared machine the CPU figure is the stable one),
  on first use and asked again, as `recall_timing.py` defines them (similar: the same titles
  `scale.py` times);
- `mm recall` from the CLI (a new process per query), p50;
- side by side on the same similar queries (block titles): a naive baseline that scans and scores
  every block read from the snapshot (distinct query words found in title and body), and, with
  `--mind-mem PYTHON` (an interpreter in a throwaway venv where `pip install mind-mem` worked), the
  mind-mem package's `recall` over the same blocks written in its Markdown format. Each reports
  p50 latency and known-item hit@5 (the block whose title was asked is in the top 5), and the
  ratio to mindmem.

    python benchmarks/recall.py [--sizes 1000 10000 100000] [--queries 100] [--cli 10]
                                [--side-queries 50] [--mind-mem PYTHON] [--repo COPY]

`--repo COPY` measures an existing repo (a copy: it gets one-block commits) instead of generating
one, so a 100k corpus made once can be measured again after each change.

The default sizes are 1k and 10k; 100k takes a few minutes (about 170 s of CPU over two processes) to build.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from recall_timing import first_use_and_again, title_questions

from mindmem.search import index
from mindmem.search.recall import recall
from mindmem.store import blocks as b
from mindmem.store.blocks import Block
from mindmem.store.memory import Memory
from mindmem.store.repo import Person
from mindmem.vocabulary import RECALL_MODES

PERSON = Person("Bench", "bench@mindmem.invalid")
HERE = Path(__file__).resolve().parent
TOP = 5


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def queries_for(memory: Memory, count: int, rng: random.Random) -> dict[str, list[str]]:
    blocks = memory.list(at="HEAD")
    titles = [blk.title for blk in blocks]
    facts = [f"{blk.subject} {blk.predicate} {blk.obj}" for blk in blocks if blk.type == "fact" and blk.predicate]
    incidents = [blk.title for blk in blocks if blk.type == "incident"] or titles

    def pick(pool: list[str]) -> list[str]:  # without repeats, as recall_timing.py picks titles
        return rng.sample(pool, min(count, len(pool)))

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
        "import sys; from mindmem.store.memory import Memory; from mindmem.search import index; "
        "index.catch_up(Memory(sys.argv[1]))"
    )
    return child([sys.executable, "-c", script, str(path)])


# -- side by side: a naive scan and mind-mem ---------------------------------------------

_WORD_RE = re.compile(r"[a-z0-9]+")


def naive_search(blocks: Sequence[Block], query: str, limit: int = 10) -> list[str]:
    """What a tool without an index does: read every block's text and count the query's words in it."""
    words = set(_WORD_RE.findall(query.lower()))
    scored = []
    for blk in blocks:
        found = len(words & set(_WORD_RE.findall(f"{blk.title}\n{blk.body}".lower())))
        if found:
            scored.append((-found, blk.id))
    return [block_id for _, block_id in sorted(scored)[:limit]]


@dataclass(frozen=True)
class Side:
    """One retriever's figures on the same queries."""

    name: str
    p50: float
    cpu50: float
    hit: float


def side_line(side: Side, ours: Side) -> str:
    speed = side.cpu50 / ours.cpu50 if ours.cpu50 else float("nan")
    return (
        f"{side.name:<28} p50 {ms(side.p50):>9}  cpu p50 {ms(side.cpu50):>9}  hit@{TOP} {side.hit:.3f}"
        f"   ({speed:.1f}x mindmem's CPU, {side.hit / ours.hit if ours.hit else float('nan'):.2f}x its hit@{TOP})"
    )


def known_item(queries: Sequence[str], targets: Sequence[str], answers: Sequence[Sequence[str]]) -> float:
    """Share of queries whose target block is among the first TOP answers."""
    return sum(t in a[:TOP] for t, a in zip(targets, answers, strict=True)) / max(1, len(queries))


# mindmem type -> (mind-mem file, ID prefix, field holding the title). mind-mem has no fact or
# note type: those go where its importers put outside memory (memory/IMPORTED.md).
_MIND_MEM_FILES = {
    "decision": ("decisions/DECISIONS.md", "D", "Statement"),
    "task": ("tasks/TASKS.md", "T", "Title"),
    "incident": ("entities/incidents.md", "INC", "Title"),
    "fact": ("memory/IMPORTED.md", "IMP", "Statement"),
    "note": ("memory/IMPORTED.md", "IMP", "Statement"),
}
_MIND_MEM_ENTITIES = {"PER": "entities/people.md", "PRJ": "entities/projects.md", "TOOL": "entities/tools.md"}


def mind_mem_workspace(python: str, path: Path, blocks: Sequence[Block]) -> dict[str, str]:
    """Write `blocks` as a mind-mem workspace (`[ID]` headers, `Key: value` lines); mind-mem ID -> block ID."""
    subprocess.run([python, "-m", "mind_mem.init_workspace", str(path)], check=True, capture_output=True)
    files: dict[str, list[str]] = defaultdict(list)
    ids: dict[str, str] = {}
    serial: dict[str, int] = defaultdict(int)
    for blk in blocks:
        day = blk.created[:10].replace("-", "")
        if blk.type == "entity":
            prefix = blk.id.split("-", 1)[0]
            rel = _MIND_MEM_ENTITIES.get(prefix, "entities/projects.md")
            new_id, title_key = (blk.id if prefix in _MIND_MEM_ENTITIES else f"PRJ-{blk.id[4:]}"), "Name"
        else:
            rel, prefix, title_key = _MIND_MEM_FILES[blk.type]
            serial[f"{prefix}{day}"] += 1
            new_id = f"{prefix}-{day}-{serial[f'{prefix}{day}']:03d}"
        ids[new_id] = blk.id
        body = " ".join(blk.body.split())
        lines = [f"[{new_id}]", f"Date: {blk.created[:10]}", f"Status: {blk.status}", f"{title_key}: {blk.title}"]
        if body:
            lines.append(f"Context: {body}")
        if blk.tags:
            lines.append(f"Tags: {', '.join(blk.tags)}")
        files[rel].append("\n".join(lines))
    for rel, entries in files.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as handle:
            handle.write("\n\n" + "\n\n".join(entries) + "\n")
    return ids


def mind_mem_side(python: str, workdir: Path, blocks: Sequence[Block], queries: Sequence[str]) -> dict:
    """Run benchmarks/mind_mem_side.py under `python` on a workspace of `blocks`; its JSON answer."""
    workspace = workdir / "mind-mem"
    ids = mind_mem_workspace(python, workspace, blocks)
    request = workdir / "mind-mem-request.json"
    request.write_text(json.dumps({"workspace": str(workspace), "queries": list(queries), "limit": 10}))
    done = subprocess.run(
        [python, str(HERE / "mind_mem_side.py"), str(request)], check=True, capture_output=True, text=True
    )
    answer = json.loads(done.stdout)
    for item in answer["answers"]:
        item["ids"] = [ids.get(i, i) for i in item["ids"]]
    return answer


def side_by_side(memory: Memory, count: int, rng: random.Random, mind_mem: str | None, workdir: Path) -> None:
    blocks = [blk for blk in memory.list(at="HEAD") if blk.status not in ("superseded", "revoked")]
    picked = [rng.choice(blocks) for _ in range(count)]
    queries, targets = [blk.title for blk in picked], [blk.id for blk in picked]

    def timed_side(name: str, search: Callable[[str], list[str]]) -> Side:
        search(queries[0])
        wall, cpu, answers = [], [], []
        for q in queries:
            began, began_cpu = time.perf_counter(), time.process_time()
            answers.append(search(q))
            wall.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
        return Side(name, statistics.median(wall), statistics.median(cpu), known_item(queries, targets, answers))

    ours = timed_side("mindmem recall (similar)", lambda q: [h.id for h in recall(memory, q).hits])
    print(f"\nside by side, {count} title queries over the {len(blocks)} current blocks")
    print(side_line(ours, ours))
    print(side_line(timed_side("naive scan of every block", lambda q: naive_search(blocks, q)), ours))
    if mind_mem:
        try:
            answer = mind_mem_side(mind_mem, workdir, blocks, queries)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"mind-mem: could not run under {mind_mem}: {exc}")
            return
        items = answer["answers"]
        hit = known_item(queries, targets, [i["ids"] for i in items])
        side = Side(
            "mind-mem recall",
            statistics.median(i["wall"] for i in items),
            statistics.median(i["cpu"] for i in items),
            hit,
        )
        print(side_line(side, ours) + f"; import {answer['import_seconds']:.2f} s")


def fresh_process_build(path: Path) -> tuple[float, float, float, float]:
    """(wall, CPU, peak resident MB, peak resident MB of a worker) of a full rebuild in a new process, as
    `mm index rebuild` pays it; CPU counts the worker processes a large build writes segments in."""
    script = (
        "import resource, sys; from mindmem.store.memory import Memory; from mindmem.search import index; "
        "index.rebuild(Memory(sys.argv[1])); "
        "print(*(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script, str(path)], check=True, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    own, worker = out.stdout.split()[-2:]
    return wall, cpu, int(own) / 1024, int(worker) / 1024


def run(n: int, count: int, cli_runs: int, side_queries: int, mind_mem: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        made = timed(lambda: corpus.build_repo(Path(tmp) / "repo", n, seed=0, commits=5))
        print(f"\n## {n} blocks (corpus repo built in {made:.1f} s)")
        measure(Path(tmp) / "repo", count, cli_runs, builds=2)
        side_by_side(Memory(Path(tmp) / "repo"), side_queries, random.Random(7), mind_mem, Path(tmp))


def measure(path: Path, count: int, cli_runs: int, builds: int) -> None:
    """Build, catch-up and query figures on the repo at `path` (it gets one-block commits)."""
    rng = random.Random(7)
    memory = Memory(path)
    for _ in range(builds):
        wall, cpu, peak, worker = fresh_process_build(path)
        print(
            f"full index build            {wall:.2f} s, cpu {cpu:.2f} s, peak memory {peak:.0f} MB"
            f" + {worker:.0f} MB per worker (new process, load {os.getloadavg()[0]:.1f})"
        )
    in_process = []
    for _ in range(5):
        change_one_block(memory, rng)
        start = time.perf_counter()
        status = index.catch_up(memory)
        in_process.append(time.perf_counter() - start)
        assert status.reindexed == 1 and not status.rebuilt, status
    print(f"catch-up, 1 changed block   {ms(statistics.median(in_process))} in process (median of 5)")
    fresh = []
    for _ in range(3):
        change_one_block(memory, rng)
        fresh.append(fresh_process_catch_up(path))
    wall, cpu = (statistics.median(x) for x in zip(*fresh, strict=True))
    print(f"catch-up in a fresh process {ms(wall)}, cpu {ms(cpu)} (interpreter and imports included)")
    noop = statistics.median(timed(lambda: index.catch_up(memory)) for _ in range(20))
    print(f"freshness check, no change  {ms(noop)}")
    queries = queries_for(memory, count, rng)
    for mode in RECALL_MODES:
        # Similar on block titles exactly as scale.py times it (recall_timing.py); the other modes alike.
        warm_up, questions = title_questions(memory) if mode == "similar" else (None, [])
        questions = questions or queries[mode]
        first, again = first_use_and_again(
            lambda q, mode=mode: recall(memory, q, mode=mode), warm_up or questions[0], questions
        )
        print(
            f"recall {mode:<9} first use p50 {ms(first.p(50)):>9}  p95 {ms(first.p(95)):>9}"
            f"   cpu p50 {ms(first.p(50, cpu=True)):>9}  p95 {ms(first.p(95, cpu=True)):>9}"
            f"   asked again p50 {ms(again.p(50)):>8}, cpu {ms(again.p(50, cpu=True)):>8}  ({len(questions)} queries)"
        )
    if cli_runs:
        mm = [sys.executable, "-m", "mindmem", "-C", str(path), "recall"]
        cli = [child([*mm, q]) for q in queries["similar"][:cli_runs]]
        wall, cpu = (statistics.median(x) for x in zip(*cli, strict=True))
        print(f"mm recall (CLI, new process) p50 {ms(wall)}, cpu {ms(cpu)} ({cli_runs} queries)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--queries", type=int, default=100, help="queries per mode other than similar (similar: recall_timing.py)"
    )
    parser.add_argument("--cli", type=int, default=10, help="CLI runs per size (0 to skip)")
    parser.add_argument("--side-queries", type=int, default=50, help="queries for the side-by-side comparison")
    parser.add_argument(
        "--mind-mem", metavar="PYTHON", help="an interpreter with the mind-mem package, to compare its recall"
    )
    parser.add_argument(
        "--repo", type=Path, help="measure this existing memory repo instead (it gets one-block commits: use a copy)"
    )
    args = parser.parse_args()
    print("# benchmarks/recall.py")
    if args.repo:
        print(f"\n## {args.repo}")
        measure(args.repo, args.queries, args.cli, builds=1)
        return
    for n in args.sizes:
        run(n, args.queries, args.cli, args.side_queries, args.mind_mem)


if __name__ == "__main__":
    main()
