"""The one lock every mm process on a repository shares, by name: an flock on a file in the git dir."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator

from mindmem.errors import StateError
from mindmem.store import gitdir
from mindmem.store.git.binary import GitBinary


class Locks(GitBinary):
    """Needs only the git dir, so `LazyRepo` takes locks without loading libgit2."""

    @contextlib.contextmanager
    def locked(self, name: str, *, wait: float | None = None) -> Iterator[None]:
        """Hold the exclusive lock `name` shared by every mm process on this repository.

        It is an flock, which the kernel releases if mm is killed, so a dead process never leaves it
        stuck. `wait` (seconds; None: as long as it takes) bounds the wait; past it, StateError.
        """
        path = gitdir.lock(self, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            if wait is None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            else:
                _flock_within(handle.fileno(), wait, name)
            yield


def _flock_within(fd: int, wait: float, name: str) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise StateError(f"another mm process holds the {name} lock of this repository; try again") from None
            time.sleep(0.05)
