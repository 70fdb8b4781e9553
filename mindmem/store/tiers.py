"""A derived store of entries keyed by git blob id, kept in two files so a run that adds k entries
writes O(k) bytes, not the whole store:

- `<prefix>base`: most entries, rewritten only when `recent` has grown past `RECENT_LIMIT`
  (or when a run that read a whole tree drops old versions);
- `<prefix>recent`: entries added since, small, rewritten whenever a run added something.

Content-addressed, so never stale: a blob id names exactly one text. Each file is written to a
temporary file and renamed into place, so a reader sees an old or a new file, never a torn one; of
two writers at once the last one wins and the entries only the other had are made again next
time. A file that is missing, damaged or of another format is treated as empty and rewritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mindmem.store.files import read_store, write_store

# Entries kept beyond the ones in use, so switching between work tree, index and branches stays warm.
SPARE = 20_000
# Past this many entries in `recent`, they are folded into `base`.
RECENT_LIMIT = 2_000


class Tiers:
    """The entries under `folder` (None: in memory only, nothing is written) in format `fmt`."""

    def __init__(self, folder: Path | None, fmt: str, prefix: str = "") -> None:
        self.folder, self.fmt, self.prefix = folder, fmt, prefix
        self.base: dict[str, Any] | None = None  # loaded on first need
        self.recent: dict[str, Any] | None = None
        self.new: dict[str, Any] = {}  # added in this run, to be written
        self.used: set[str] = set()

    def get(self, sha: str, *, load: bool = True) -> Any:
        """The stored entry of `sha`, or None. `load`: load the (large) base file if it is not yet."""
        if self.recent is None:
            self.recent = self._load("recent")
        entry = self.recent.get(sha)
        if entry is None and (load or self.base is not None):
            if self.base is None:
                self.base = self._load("base")
            entry = self.base.get(sha)
        return entry

    def loaded(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(recent, base), both loaded: for a caller about to look up many entries."""
        if self.recent is None:
            self.recent = self._load("recent")
        if self.base is None:
            self.base = self._load("base")
        return self.recent, self.base

    def save(self, *, whole_tree: bool = False) -> None:
        """Write what this run added; best effort (a read-only git dir just stays cold).

        `whole_tree`: this run used every entry of a tree (`used`), so entries it did not use (beyond
        `SPARE`) are old versions and may be dropped; other runs never drop an entry."""
        if self.folder is None:
            return
        stored = len(self.base or ()) + len(self.recent or ()) + len(self.new)
        untrimmed = whole_tree and self.base is not None and stored > len(self.used) + SPARE + RECENT_LIMIT
        if not self.new and not untrimmed:
            return
        recent = {**(self.recent if self.recent is not None else self._load("recent")), **self.new}
        if len(recent) > RECENT_LIMIT or untrimmed:
            merged = {**(self.base if self.base is not None else self._load("base")), **recent}
            self.base = trimmed(merged, self.used) if whole_tree else merged
            write_store(self.folder / f"{self.prefix}base", self.fmt, self.base)
            recent = {}
        write_store(self.folder / f"{self.prefix}recent", self.fmt, recent)
        self.recent, self.new = recent, {}

    def _load(self, name: str) -> dict[str, Any]:
        return read_store(self.folder / f"{self.prefix}{name}" if self.folder else None, self.fmt)


def trimmed(entries: dict[str, Any], used: set[str]) -> dict[str, Any]:
    """The entries in `used`, and up to `SPARE` others (kept in their stored order)."""
    keep = {sha: entries[sha] for sha in used if sha in entries}
    for sha, value in entries.items():
        if len(keep) >= len(used) + SPARE:
            break
        keep.setdefault(sha, value)
    return keep
