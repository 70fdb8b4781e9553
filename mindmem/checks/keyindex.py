"""The keys an incremental check looks blocks up by, for one tree, kept in SQLite in the git dir.

A check of one changed block must find its neighbours (same constraint axis, same fact claim,
same title words, who links to it, which entity a name means) without reading every digest of a
100,000-block tree. This index holds, for the tree it was last moved to, each block file's blob
sha and digest and those keys, with B-tree lookups. A check of another tree reads the index
through the tree diff between the two (`View.over`), so its cost is the diff, not the tree.
Derived data: never committed; deleted and rebuilt when missing, damaged or from another version.
Many processes use it at once: a reader holds one read transaction (the write-ahead log gives it
one consistent tree), and a writer re-reads which tree the index is at once it holds the write lock.
"""

from __future__ import annotations

import contextlib
import marshal
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from mindmem.checks.catalog import Digest, live
from mindmem.checks.wording import norm

FORMAT = "mindmem-keys/2"
# Up to this many paths between the index's tree and the one checked are parsed when the index moves;
# past it, their digests come from the store of every digest.
MOVE_AFTER = 64
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS entries (path TEXT PRIMARY KEY, sha TEXT NOT NULL, id TEXT, digest BLOB);
CREATE INDEX IF NOT EXISTS entries_id ON entries(id);
CREATE TABLE IF NOT EXISTS keys (kind TEXT NOT NULL, key TEXT NOT NULL, path TEXT NOT NULL, extra TEXT);
CREATE INDEX IF NOT EXISTS keys_lookup ON keys(kind, key);
CREATE INDEX IF NOT EXISTS keys_path ON keys(path);
"""
# path -> new blob sha (None: the file is gone), against the index's tree.
Over = Mapping[str, str | None]
# {path: sha} -> {path: digest} for the block files among them (what does not parse is left out).
DigestsOf = Callable[[Mapping[str, str]], dict[str, Digest]]


def keys_of(d: Digest) -> Iterator[tuple[str, str, str | None]]:
    """(kind, key, extra) rows a block file is found by; `Catalog` builds the same lookups in memory."""
    if live(d):
        if d.axis is not None:
            yield "axis", d.axis, None
        if d.predicate is not None and d.subject is not None:
            yield "claim", f"{norm(d.subject)}\0{d.predicate}", None
        if len(d.words) >= 2:
            yield "words", "\0".join(d.words), None
    for edge_type, target in d.edges:
        yield "target", target, edge_type
    for name in d.names:
        yield "name", name, d.id  # which entity a name means
        yield "names", d.id, name  # and the other way


class KeyIndex:
    """One SQLite file: the tree it describes, its block files with digests, and their keys."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(2):
            db = sqlite3.connect(self.file, timeout=60, isolation_level=None, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(SCHEMA)
                found = db.execute("SELECT value FROM meta WHERE name='format'").fetchone()
                if found is None:
                    db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT,))
                elif found[0] != FORMAT:
                    raise sqlite3.DatabaseError(f"index format {found[0]}")
                return db
            except sqlite3.DatabaseError:
                db.close()
                if attempt:
                    raise
                self._remove()  # damaged or foreign: derived data, so start again
        raise AssertionError("unreachable")

    def _remove(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.file}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()

    def tree(self) -> str | None:
        found = self.db.execute("SELECT value FROM meta WHERE name='tree'").fetchone()
        return found[0] if found else None

    def move(
        self, tree: str, diff: Callable[[str], Over | None], full: Callable[[], Over], digests_of: DigestsOf
    ) -> None:
        """Make the index describe `tree`: `diff(old_tree)` gives the block files that differ from `old_tree`
        to `tree` ({path: sha or None}; None when it cannot tell), `full()` every block file of `tree`."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            current = self.tree()  # again, now that this process holds the write lock
            changes = diff(current) if current is not None else None
            if changes is None:
                self.db.execute("DELETE FROM entries")
                self.db.execute("DELETE FROM keys")
                changes = full()
            gone = [(path,) for path in changes]
            self.db.executemany("DELETE FROM entries WHERE path=?", gone)
            self.db.executemany("DELETE FROM keys WHERE path=?", gone)
            present = {path: sha for path, sha in changes.items() if sha is not None}
            found = digests_of(present)
            self.db.executemany(
                "INSERT INTO entries VALUES (?, ?, ?, ?)",
                (
                    (path, sha, found[path].id if path in found else None, _dump(found.get(path)))
                    for path, sha in present.items()
                ),
            )
            self.db.executemany(
                "INSERT INTO keys VALUES (?, ?, ?, ?)",
                ((kind, key, path, extra) for path, d in found.items() for kind, key, extra in keys_of(d)),
            )
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('tree', ?)", (tree,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # -- lookups (inside the reader's transaction) ------------------------------------------

    def by_id(self, block_id: str) -> list[tuple[str, str, Digest]]:
        rows = self.db.execute("SELECT path, sha, digest FROM entries WHERE id=?", (block_id,))
        return [(path, sha, _load(data)) for path, sha, data in rows]

    def sha(self, path: str) -> str | None:
        found = self.db.execute("SELECT sha FROM entries WHERE path=?", (path,)).fetchone()
        return found[0] if found else None

    def lookup(self, kind: str, keys: Iterable[str]) -> list[tuple[str, str, Digest, str | None]]:
        """(path, sha, digest, extra) of the block files found under any of `keys`."""
        out = []
        for key in keys:
            rows = self.db.execute(
                "SELECT e.path, e.sha, e.digest, k.extra FROM keys k JOIN entries e ON e.path = k.path "
                "WHERE k.kind=? AND k.key=?",
                (kind, key),
            )
            out += [(path, sha, _load(data), extra) for path, sha, data, extra in rows]
        return out

    def names_of(self, entity: str) -> list[str]:
        rows = self.db.execute("SELECT extra FROM keys WHERE kind='names' AND key=?", (entity,))
        return [name for (name,) in rows]


def _dump(d: Digest | None) -> bytes | None:
    return marshal.dumps(tuple(d)) if d is not None else None


def _load(data: bytes) -> Digest:
    return Digest._make(marshal.loads(data))
