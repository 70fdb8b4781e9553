"""Block digests keyed by git blob sha, so checks do not re-read unchanged files.

Content-addressed, so never stale: a blob sha names exactly one text. The digests (small
plain tuples, read by every check) are one marshal file in the git common dir (derived
data, never committed), rebuilt from nothing if missing, unreadable or from another
version of mindmem. Blocks read in full come from the store's parsed-block cache
(`mindmem.store.parsed`), the same one snapshots read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from mindmem import __version__
from mindmem.checks.catalog import Digest, digest
from mindmem.checks.safety import SCAN_VERSION
from mindmem.errors import BlockError
from mindmem.store.blocks import Block
from mindmem.store.files import read_store, write_store
from mindmem.store.parsed import MANY, ParsedBlocks
from mindmem.store.tiers import trimmed

# A new digest shape, safety scan or mindmem version starts a fresh cache.
FORMAT = f"mindmem-check-cache/3/{__version__}/safety-{SCAN_VERSION}/{','.join(Digest._fields)}"
# Many blob ids -> (id, bytes) of those the repository holds.
ReadMany = Callable[[list[str]], Iterable[tuple[str, bytes]]]
# A blob that does not parse has this digest, so an untouched broken file is not re-read on every check.
BROKEN = ()


class BlockCache:
    """Digests from the checks' store under `folder`, blocks from `parsed` (None: in memory only)."""

    def __init__(self, folder: Path | None, parsed: ParsedBlocks | None = None) -> None:
        self.folder = folder
        self.parsed = parsed or ParsedBlocks(None)
        self._digests: dict[str, tuple[Any, ...]] | None = None  # the store, loaded on first need
        self.used: set[str] = set()
        self.new_digests = False

    @property
    def digests(self) -> dict[str, tuple[Any, ...]]:
        if self._digests is None:
            self._digests = read_store(self.folder / "digests" if self.folder else None, FORMAT)
        return self._digests

    def _parse(self, sha: str, path: str, data: bytes, *, many: bool = False) -> Block:
        # `many`: digesting many blocks (a cold digest store), so load the parsed store rather than parse.
        return self.parsed.block(sha, path, lambda _: data, load=many)

    def digest(self, sha: str, path: str, read: Callable[[str], bytes], *, many: bool = False) -> Digest | None:
        """The digest of blob `sha`, or None if it does not parse."""
        self.used.add(sha)
        found = self.digests.get(sha)
        if found is None:
            data = read(sha)
            try:
                found = tuple(digest(self._parse(sha, path, data, many=many), data.decode("utf-8", "replace")))
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
                block = self._parse(sha, path, data)
            except BlockError:
                continue
            out[path] = digest(block, data.decode("utf-8", "replace"))
        return out

    def digests_of(
        self, entries: Mapping[str, str], read: Callable[[str], bytes], read_many: ReadMany | None = None
    ) -> dict[str, Digest]:
        """path -> digest for block files {path: sha}; files that do not parse are left out. `read_many`
        reads many blobs in one go, for a cold store (what it does not hold, `read` reads)."""
        self.used.update(entries.values())
        known, make, many = self.digests, Digest._make, len(entries) > MANY
        unknown = {sha: path for path, sha in entries.items() if sha not in known}
        if read_many is not None and len(unknown) > MANY:
            fetched = dict(read_many(list(unknown)))
            self.parsed.prefill([(sha, unknown[sha]) for sha in fetched], fetched.__getitem__)
            for sha, data in fetched.items():
                self.digest(sha, unknown[sha], lambda _, data=data: data, many=True)
        out = {}
        for path, sha in entries.items():
            found = known.get(sha)
            if found is None:
                digest_ = self.digest(sha, path, read, many=many)
                if digest_ is not None:
                    out[path] = digest_
            elif found:
                out[path] = make(found)
        return out

    def block(self, sha: str, path: str, read: Callable[[str], bytes], *, many: bool = False) -> Block:
        """The block in blob `sha` (BlockError if it does not parse); `many`: the caller reads most blocks,
        so load the whole parsed store rather than parse them one by one."""
        self.used.add(sha)
        return self.parsed.block(sha, path, read, load=many)

    def save(self) -> None:
        """Write back what changed; best effort (a read-only repo just stays cold)."""
        if self.folder is not None and self.new_digests and self._digests is not None:
            write_store(self.folder / "digests", FORMAT, trimmed(self._digests, self.used))
            # Parsed blocks moved to the store's cache (`parsed.py`); an old copy here is only dead weight.
            with contextlib.suppress(OSError):
                (self.folder / "blocks").unlink(missing_ok=True)
        self.parsed.save()
        self.new_digests = False
