"""MCP server speed: start to first answer, recall and propose round trips over stdio.

A memory repo of N blocks comes from benchmarks/corpus.py. The baseline is the same
dispatcher called in this process, so the difference is the server and the transport.

    python benchmarks/mcp_server.py [--n 10000] [--calls 50]

(Not named mcp.py: that would shadow the mcp SDK for scripts run from this folder.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from mindmem.agents.dispatch import Dispatcher
from mindmem.search import index
from mindmem.store.memory import Memory

QUERIES = [
    "billing storage engine decision",
    "who owns the deploy pipeline",
    "incident timeout export",
    "postgres partitioning",
    "api authentication tokens",
    "when did we change the region",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def over_stdio(repo: Path, calls: int) -> dict[str, list[float] | float]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mindmem", "mcp", "--repo", str(repo), "--agent", "bench"],
        env=dict(os.environ),
    )
    started = time.perf_counter()
    async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        await s.call_tool("recall", {"query": QUERIES[0]})
        first = time.perf_counter() - started
        recall = []
        for n in range(calls):
            t = time.perf_counter()
            result = await s.call_tool("recall", {"query": QUERIES[n % len(QUERIES)], "limit": 10})
            recall.append(time.perf_counter() - t)
            assert not result.is_error, result.content
        propose = []
        for n in range(max(5, calls // 5)):
            t = time.perf_counter()
            result = await s.call_tool(
                "staged_change",
                {
                    "phase": "propose",
                    "rationale": f"benchmark proposal number {n}",
                    "edits": [{"action": "add", "type": "note", "title": f"Benchmark note {n}"}],
                },
            )
            propose.append(time.perf_counter() - t)
            assert not result.is_error, result.content
    return {"first": first, "recall": recall, "propose": propose}


def in_process(repo: Path, calls: int) -> list[float]:
    d = Dispatcher(str(repo), "bench")
    d.recall(QUERIES[0])
    times = []
    for n in range(calls):
        t = time.perf_counter()
        d.recall(QUERIES[n % len(QUERIES)], limit=10)
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "memory-repo"
        t = time.perf_counter()
        corpus.build_repo(repo, args.n, seed=1)
        built = time.perf_counter() - t
        t = time.perf_counter()
        index.catch_up(Memory(repo))
        indexed = time.perf_counter() - t
        stdio = asyncio.run(over_stdio(repo, args.calls))
        local = in_process(repo, args.calls)
    print(f"corpus: {args.n} blocks (built in {built:.1f} s, indexed in {indexed:.1f} s), {args.calls} calls\n")
    print("| measure | p50 | p95 |")
    print("|---|---|---|")
    print(f"| server start to first recall answer | {stdio['first'] * 1000:.0f} ms | |")
    print(
        f"| recall round trip over stdio | {pct(stdio['recall'], 0.5):.1f} ms | {pct(stdio['recall'], 0.95):.1f} ms |"
    )
    print(f"| recall in process (baseline) | {pct(local, 0.5):.1f} ms | {pct(local, 0.95):.1f} ms |")
    propose = stdio["propose"]
    print(f"| propose round trip over stdio | {pct(propose, 0.5):.1f} ms | {pct(propose, 0.95):.1f} ms |")
    overhead = statistics.median(stdio["recall"]) - statistics.median(local)
    print(f"\nstdio + server overhead per recall: {overhead * 1000:.1f} ms (p50 difference)")


if __name__ == "__main__":
    main()
