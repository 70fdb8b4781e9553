"""Recall latency in process: one definition for every benchmark that reports it (`scale.py`, `recall.py`).

- The questions are the titles of QUESTIONS blocks at the commit, picked at random without repeats (block
  IDs sorted first, so a seed gives the same questions whatever order the blocks are listed in). The
  number is part of the definition: later questions find terms that earlier ones read, so the p50 of
  200 titles is lower than that of 50 (at 10k blocks, before posting tables: 5.9 against 9.2 ms of CPU;
  docs/benchmarks.md, stop 22).
- The process has opened the index and answered one other question first (as a long-lived process such
  as the MCP server has), so a figure is not the one-off cost of opening the index; but each timed
  question is asked once, so terms it shares with no earlier question are read for the first time then:
  the "first use" figure. The same questions asked again give the "asked again" figure.
- Each question is timed as wall time (`perf_counter`) and as this process's CPU time (`process_time`;
  on a shared machine the stable one); p50 and p95 by nearest rank (`governance.percentile`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from governance import percentile

from mindmem.store.memory import Memory

QUESTIONS = 50
SEED = 11


@dataclass(frozen=True)
class Timing:
    """Wall and CPU seconds per question."""

    wall: tuple[float, ...]
    cpu: tuple[float, ...]

    def p(self, q: float, cpu: bool = False) -> float:
        return percentile(list(self.cpu if cpu else self.wall), q)


def title_questions(memory: Memory, at: str = "HEAD") -> tuple[str, list[str]]:
    """(a question to open the index with, QUESTIONS other block titles), as the definition above says."""
    blocks = memory.snapshot(at).blocks
    picked = [blocks[i].title for i in random.Random(SEED).sample(sorted(blocks), min(QUESTIONS + 1, len(blocks)))]
    return picked[0], picked[1:]


def timed(ask: Callable[[str], object], questions: list[str]) -> Timing:
    wall, cpu = [], []
    for question in questions:
        began, began_cpu = time.perf_counter(), time.process_time()
        ask(question)
        wall.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return Timing(tuple(wall), tuple(cpu))


def first_use_and_again(ask: Callable[[str], object], warm_up: str, questions: list[str]) -> tuple[Timing, Timing]:
    """The questions timed on first use, then asked again, after `warm_up` opened the index."""
    ask(warm_up)
    return timed(ask, questions), timed(ask, questions)
