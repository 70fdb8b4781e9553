"""The block format's speed: `render` and `parse` per block, on the benchmark corpus.

    python benchmarks/block_format.py [--n 10000] [--runs 5]

Renders every block of `corpus.generate(n)` (what `mm fmt` and every write do), parses the
canonical text back (what every read does), and parses the same blocks written with one-line
flow lists (`tags: [a, b]`, the canonical form before block-style lists), which files written by
an older mm still use. Figures are the best of `--runs` CPU-time runs, in µs per block.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import corpus

from mindmem.store.blocks import parse, render

_BLOCK_LIST = re.compile(r"(?m)^( *)([A-Za-z_][\w-]*):\n((?:\1  - [^\n]*\n)+)")


def flow_style(text: str) -> str:
    """The same frontmatter with each block list of scalars as a one-line flow list."""
    return _BLOCK_LIST.sub(
        lambda m: f"{m[1]}{m[2]}: [" + ", ".join(ln.strip()[2:] for ln in m[3].splitlines()) + "]\n", text
    )


def best(runs: int, work: Callable[[], None]) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    blocks = corpus.generate(args.n)
    texts = [render(block) for block in blocks]
    older = [flow_style(text) for text in texts]
    assert all(parse(o, "x.md") == block for o, block in zip(older[:200], blocks, strict=False))
    rows = [
        ("render (canonical, block-style lists)", best(args.runs, lambda: [render(bl) for bl in blocks])),
        ("parse canonical text", best(args.runs, lambda: [parse(t, "x.md") for t in texts])),
        ("parse flow-style lists (older files)", best(args.runs, lambda: [parse(t, "x.md") for t in older])),
    ]
    print(f"{date.today()}, {platform.machine()} {os.cpu_count()}-core, load {os.getloadavg()[0]:.1f}, n={args.n}")
    print("| step | µs per block |\n|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds / len(blocks) * 1e6:.0f} |")


if __name__ == "__main__":
    main()
