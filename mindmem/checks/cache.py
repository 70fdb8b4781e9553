"""Parsed blocks keyed by git blob sha, so a check on a 10k-block repo does not re-parse 10k files.

Content-addressed, so it can never be stale: a blob sha names exactly one text.
It lives in the git common dir (derived data, never committed) and is rebuilt
from nothing if it is missing, unreadable or from another version of mindmem.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

from mindmem import __version__
from mindmem.blocks import Block, parse

FORMAT = f"mindmem-block-cache/1/{__version__}"
# Entries kept beyond the ones in use, so switching between work tree, index and branches stays warm.
SPARE = 20_000


class BlockCache:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, Block] = self._load()
        self.used: set[str] = set()
        self.added = 0

    def _load(self) -> dict[str, Block]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            with self.path.open("rb") as handle:
                fmt, entries = pickle.load(handle)
        except Exception:  # a torn or foreign file is only a cold cache
            return {}
        return entries if fmt == FORMAT and isinstance(entries, dict) else {}

    def block(self, sha: str, data: bytes | None, path: str, read: Callable[[str], bytes]) -> Block:
        """The block in blob `sha` (parsed from `data`, or from `read(sha)`, on a miss). Raises BlockError."""
        self.used.add(sha)
        cached = self.entries.get(sha)
        if cached is not None:
            return cached
        block = parse(data if data is not None else read(sha), path)
        block.wiki_links  # noqa: B018  (computed once here so cached blocks never re-run markdown-it)
        self.entries[sha] = block
        self.added += 1
        return block

    def save(self) -> None:
        """Write the cache back if anything was added; best effort (a read-only repo just stays cold)."""
        if self.path is None or not self.added:
            return
        keep = {sha: blk for sha, blk in self.entries.items() if sha in self.used}
        for sha, blk in self.entries.items():
            if len(keep) >= len(self.used) + SPARE:
                break
            keep.setdefault(sha, blk)
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".blocks.", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump((FORMAT, keep), handle, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.path)
            finally:
                Path(tmp).unlink(missing_ok=True)
        self.added = 0
