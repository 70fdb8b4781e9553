"""Worker processes for work split across cores: the index build (`search/bulk.py`) and a cold parse
(`store/parsed.py`).

A worker is `python -m MODULE ARGS…` with its share pickled in a spool file on its stdin and its
result on stdout: not multiprocessing, so nothing of the calling program's main module is imported
again, and a worker that dies is an error, not a hang.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from subprocess import PIPE
from typing import Any

from mindmem.errors import StateError


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def start(module: str, args: Sequence[str], share: Any, spool: Path | None = None) -> subprocess.Popen[bytes]:
    """`python -m module args…` reading `share` (pickled into a file in `spool`, the temp folder if None)."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryFile(dir=spool) as stdin:
        pickle.dump(share, stdin, protocol=pickle.HIGHEST_PROTOCOL)
        stdin.seek(0)
        return subprocess.Popen([sys.executable, "-m", module, *args], stdin=stdin, stdout=PIPE, stderr=PIPE, env=env)


def result(worker: subprocess.Popen[bytes], what: str) -> Any:
    """What `worker` wrote (unpickled); StateError naming `what` if it failed."""
    out, err = worker.communicate()
    if worker.returncode != 0:
        last = err.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {worker.returncode}"]
        raise StateError(f"{what} failed: {last[0]}")
    return pickle.loads(out)


@contextmanager
def running() -> Iterator[list[subprocess.Popen[bytes]]]:
    """A list to start workers into; those still running when the block ends (an error) are stopped."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for worker in started:
            if worker.poll() is None:
                worker.kill()
            worker.communicate()


def read_share() -> Any:
    """In a worker: its share, from stdin."""
    return pickle.load(sys.stdin.buffer)


def reply(data: Any) -> None:
    """In a worker: `data`, pickled, on stdout."""
    sys.stdout.buffer.write(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
