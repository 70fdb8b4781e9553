"""Progress notes on stderr for long work: quiet when a command finishes within a second.

`counter` is for work that counts its own progress (done of total).

    with progress("review") as step:
        step("running the checks")
        ...

Once `after` seconds have passed, the stage under way is printed (`mm: review: running the
checks…`), and so is every later stage as it starts, with the time so far. Fast runs print
nothing, so scripts and tests see clean output.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Step = Callable[[str], None]


@contextmanager
def progress(label: str, *, after: float = 1.0, out: TextIO | None = None) -> Iterator[Step]:
    import threading

    stream = out or sys.stderr
    began = time.monotonic()
    state = {"stage": "working", "shown": False}
    lock = threading.Lock()

    def show() -> None:
        with lock:
            state["shown"] = True
            print(f"mm: {label}: {state['stage']}… ({time.monotonic() - began:.1f} s)", file=stream, flush=True)

    def step(stage: str) -> None:
        state["stage"] = stage
        if state["shown"] or time.monotonic() - began >= after:
            show()

    timer = threading.Timer(after, lambda: None if state["shown"] else show())
    timer.daemon = True
    timer.start()
    try:
        yield step
    finally:
        timer.cancel()
        if state["shown"]:
            print(f"mm: {label}: done in {time.monotonic() - began:.1f} s", file=stream, flush=True)


def counter(label: str, unit: str = "", *, after: float = 0.0, out: TextIO | None = None) -> Callable[[int, int], None]:
    """A report for work that counts its own progress (an index build, a model run): `label: done/total
    unit` on stderr, rewritten in place once `after` seconds have passed; the last count ends the line."""
    stream = out or sys.stderr
    began = time.monotonic()
    shown = False

    def report(done: int, total: int) -> None:
        nonlocal shown
        if shown or time.monotonic() - began >= after:
            shown = True
            line = f"\r{label}: {done}/{total} {unit}".rstrip()
            print(line, end="\n" if done >= total else "", file=stream, flush=True)

    return report
