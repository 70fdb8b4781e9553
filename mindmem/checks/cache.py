"""Parsed blocks and their digests, keyed by git blob sha, so checks do not re-parse unchanged files.

Content-addressed, so never stale: a blob sha names exactly one text. Two files in
the git common dir (derived data, never committed): `digests` (small plain tuples in
marshal format, the fastest to load, read by every check) and `blocks` (every parsed
block, pickled, read only when a check needs many blocks in full). Either is rebuilt
from nothing if missing, unreadable or from another version of mindmem.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import pickle
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mindmem import __version__
from mindmem.checks.catalog import Digest, digest
from mindmem.checks.safety import SCAN_VERSION
from mindmem.errors import BlockError
from mindmem.store.blocks import Block, parse

# A new digest shape, safety scan or mindmem version starts a fresh cache.
FORMAT = f"mindmem-check-cache/3/{__version__}/safety-{SCAN_VERSION}/{','.join(Digest._fields)}"
# Entries kept beyond the ones in use, so switching between work tree, index and branches stays warm.
SPARE = 20_000
# A blob that does not parse has this digest, so an untouched broken file is not re-read on every check.
BROKEN = ()


class BlockCache:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._digests: dict[str, tuple[Any, ...]] | None = None  # the store, loaded on first need
        self.blocks: dict[str, Block] | None = None  # the store, loaded on first need
        self.fresh: dict[str, Block] = {}  # parsed in this run
        self.used: set[str] = set()
        self.new_digests = self.new_blocks = False

    @property
    def digests(self) -> dict[str, tuple[Any, ...]]:
        if self._digests is None:
            self._digests = self._load("digests", marshal) or {}
        return self._digests

    def _load(self, name: str, codec: Any) -> dict[str, Any] | None:
        if self.folder is None or not (self.folder / name).is_file():
            return None
        # One read and `loads` (marshal reading a file object goes in small steps), with the cyclic
        # garbage collector paused: tens of thousands of new tuples would trigger it again and again.
        gc.disable()
        try:
            fmt, entries = codec.loads((self.folder / name).read_bytes())
        except Exception:  # a torn or foreign file is only a cold cache
            return None
        finally:
            gc.enable()
        return entries if fmt == FORMAT and isinstance(entries, dict) else None

    def digest(self, sha: str, path: str, read: Callable[[str], bytes]) -> Digest | None:
        """The digest of blob `sha`, or None if it does not parse."""
        self.used.add(sha)
        found = self.digests.get(sha)
        if found is None:
            data = read(sha)
            try:
                block = self.fresh.get(sha) or parse(data, path)
                self.fresh[sha] = block
                self.new_blocks = True
                found = tuple(digest(block, data.decode("utf-8", "replace")))
            except BlockError:
                found = BROKEN
            self.digests[sha] = found
            self.new_digests = True
        return Digest._make(found) if found else None

    def parsed_digests(self, entries: Mapping[str, str], read: Callable[[str], bytes]) -> dict[str, Digest]:
        """`digests_of` for a few files, parsing them rather than loading the store of every digest."""
        out = {}
        for path, sha in entries.items():
            self.used.add(sha)
            data = read(sha)
            try:
                block = self.fresh.get(sha) or parse(data, path)
            except BlockError:
                continue
            self.fresh[sha] = block
            out[path] = digest(block, data.decode("utf-8", "replace"))
        return out

    def digests_of(self, entries: Mapping[str, str], read: Callable[[str], bytes]) -> dict[str, Digest]:
        """path -> digest for block files {path: sha}; files that do not parse are left out."""
        self.used.update(entries.values())
        known, make = self.digests, Digest._make
        out = {}
        for path, sha in entries.items():
            found = known.get(sha)
            if found is None:
                digest_ = self.digest(sha, path, read)
                if digest_ is not None:
                    out[path] = digest_
            elif found:
                out[path] = make(found)
        return out

    def block(self, sha: str, path: str, read: Callable[[str], bytes], *, many: bool = False) -> Block:
        """The block in blob `sha` (BlockError if it does not parse); `many`: the caller reads most blocks,
        so load the whole store rather than parse them one by one."""
        self.used.add(sha)
        block = self.fresh.get(sha)
        if block is None and (many or self.blocks is not None):
            if self.blocks is None:
                self.blocks = self._load("blocks", pickle) or {}
            block = self.blocks.get(sha)
        if block is None:
            block = parse(read(sha), path)
            self.fresh[sha] = block
            self.new_blocks = True
        return block

    def save(self) -> None:
        """Write back what changed; best effort (a read-only repo just stays cold)."""
        if self.folder is None:
            return
        if self.new_digests and self._digests is not None:
            self._write("digests", self._trim(self.digests), marshal)
        if self.new_blocks and self.blocks is not None:
            for block in self.fresh.values():
                block.wiki_links  # noqa: B018  (stored computed, so a cached block never re-runs markdown-it)
            self._write("blocks", self._trim({**self.blocks, **self.fresh}), pickle)
        self.new_digests = self.new_blocks = False

    def _trim(self, entries: dict[str, Any]) -> dict[str, Any]:
        keep = {sha: entries[sha] for sha in self.used if sha in entries}
        for sha, value in entries.items():
            if len(keep) >= len(self.used) + SPARE:
                break
            keep.setdefault(sha, value)
        return keep

    def _write(self, name: str, entries: dict[str, Any], codec: Any) -> None:
        assert self.folder is not None
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as handle:
                    codec.dump((FORMAT, entries), handle)
                os.replace(tmp, self.folder / name)
            finally:
                Path(tmp).unlink(missing_ok=True)
