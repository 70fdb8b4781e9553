"""A `Catalog` read from the key index, through the few block files that differ from its tree.

`open_view` moves the index to the tree being checked (or, when it cannot write, reads it through
the few files that differ) and keeps one read transaction open, so every lookup of one check sees one tree.
`IndexedCatalog` answers the lookups `Catalog` answers from a full set of digests (by ID, entity
names, the contradiction buckets, incoming edges) with index queries plus the overlay, so a check
of k changed blocks costs a tree diff and O(k) lookups, whatever the size of the tree.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindmem.checks.catalog import Buckets, Catalog, Digest
from mindmem.checks.keyindex import MOVE_AFTER, DigestsOf, KeyIndex, Over, keys_of
from mindmem.store.snapshot import is_block_path

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo


@dataclass
class View:
    """The index at one tree, and the block files of the checked tree that differ from it."""

    index: KeyIndex
    over: dict[str, tuple[str, Digest | None] | None]  # path -> (sha, digest or None: does not parse); None: gone

    def sha(self, path: str) -> str | None:
        """The blob of `path` in the checked tree."""
        if path in self.over:
            entry = self.over[path]
            return entry[0] if entry is not None else None
        return self.index.sha(path)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.index.db.execute("ROLLBACK")
        self.index.close()


def open_view(
    file: Path, git: GitRepo, root: str, tree: str, on_top: Over, digests_of: DigestsOf, parse_digests: DigestsOf
) -> View:
    """The index file at `file` seen as `tree` with `on_top` ({path: sha or None}) applied.

    `digests_of` digests many files (when the index is built from nothing); `parse_digests` the few
    of the overlay (parsing them, without loading any store of digests)."""

    def full() -> Over:
        return {p: s for p, s in git.tree_blobs(tree, root).items() if is_block_path(p)}

    def diff(old: str) -> Over | None:
        try:
            changed = git.changed_blobs(old, tree, root)
        except Exception:  # the index's tree is not in this repository (any more): start again
            return None
        return {p: new for p, (_, new) in changed.items() if is_block_path(p)}

    index = KeyIndex(file)
    movable = True
    try:
        for _ in range(4):
            index.db.execute("BEGIN")
            current = index.tree()
            over = {} if current == tree else diff(current) if current is not None else None
            few = over is not None and len(over) <= MOVE_AFTER
            if few and (not over or not movable):
                return _view(index, {**over, **{p: s for p, s in on_top.items() if is_block_path(p)}}, parse_digests)
            index.db.execute("ROLLBACK")
            # Moved along even for a few files: the next check (the next approve's gate checks a tree
            # made on top of this one) then starts from here and diffs nothing it has not just diffed.
            try:
                index.move(tree, diff, full, parse_digests if few else digests_of)
            except sqlite3.OperationalError:
                if not few:
                    raise
                movable = False  # busy, or a git dir it cannot write: read it through the overlay
        raise sqlite3.OperationalError("the key index keeps moving under this check")
    except BaseException:
        index.close()
        raise


def _view(index: KeyIndex, over: Over, parse_digests: DigestsOf) -> View:
    found = parse_digests({p: s for p, s in over.items() if s is not None})
    return View(index, {p: (s, found.get(p)) if s is not None else None for p, s in over.items()})


class IndexedCatalog(Catalog):
    """`Catalog`'s lookups over the key index and the view's overlay (only what a check asks for)."""

    def __init__(self, view: View, options: Mapping[str, Any] | None = None, focus: frozenset[str] | None = None):
        super().__init__({}, options, focus)
        self.view = view
        self.mine_files = {p: (e[0], e[1]) for p, e in view.over.items() if e is not None and e[1] is not None}
        self.mine = {p: d for p, (_, d) in self.mine_files.items()}

    def rows(self, kind: str, keys: Iterable[str]) -> list[tuple[str, Digest, str | None]]:
        """(path, digest, extra) of the block files of the checked tree found under any of `keys`."""
        wanted = set(keys)
        over = self.view.over
        out = [(p, d, x) for p, _, d, x in self.view.index.lookup(kind, wanted) if p not in over]
        for path, d in self.mine.items():
            out += [(path, d, x) for k, key, x in keys_of(d) if k == kind and key in wanted]
        return out

    def files_of(self, block_id: str) -> list[tuple[str, str, Digest]]:
        """Every (path, sha, digest) with this ID in the checked tree, by path (more than one is a duplicate)."""
        over = self.view.over
        found = [row for row in self.view.index.by_id(block_id) if row[0] not in over]
        found += [
            (p, e[0], e[1]) for p, e in over.items() if e is not None and e[1] is not None and e[1].id == block_id
        ]
        return sorted(found, key=lambda row: row[0])

    def path_of(self, block_id: str) -> str | None:
        return next((path for path, _, _ in self.files_of(block_id)), None)

    @cached_property
    def by_id(self) -> dict[str, Digest]:  # type: ignore[override]
        return _Lazy(lambda block_id: next((d for _, _, d in self.files_of(block_id)), None))  # type: ignore[return-value]

    @cached_property
    def aliases(self) -> dict[str, str]:  # type: ignore[override]
        def entity(name: str) -> str | None:
            found = sorted((p, x) for p, _, x in self.rows("name", [name]))
            return found[0][1] if found else None

        return _Lazy(entity)  # type: ignore[return-value]

    def incoming(self, targets: frozenset[str] | None = None) -> dict[str, list[tuple[str, str]]]:
        if targets is None:
            raise ValueError("an indexed catalog answers incoming edges for given targets only")
        out: dict[str, list[tuple[str, str]]] = {}
        for target in targets:
            out[target] = [(d.id, x or "") for _, d, x in sorted(self.rows("target", [target]), key=lambda r: r[0])]
        return out

    @cached_property
    def _buckets(self) -> Buckets:
        def ids(rows: list[tuple[str, Digest, str | None]]) -> list[str]:
            return [d.id for _, d, _ in sorted(rows, key=lambda r: r[0])]

        def claim(key: tuple[str, str]) -> list[str]:
            subject, predicate = key
            names = {subject} | {x for _, _, x in self.rows("names", [subject]) if x}
            rows = self.rows("claim", [f"{n}\0{predicate}" for n in names])
            return ids([r for r in rows if self.claim(r[1]) == key])

        return (
            _Lazy(lambda axis: [d for _, d, _ in sorted(self.rows("axis", [axis]), key=lambda r: r[0])]),  # type: ignore[dict-item]
            _Lazy(claim),  # type: ignore[dict-item]
            _Lazy(lambda words: ids(self.rows("words", ["\0".join(words)]))),  # type: ignore[dict-item]
        )


class _Lazy(Mapping[Any, Any]):
    """A mapping that computes each value when asked (and keeps it); it cannot be listed."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        self.compute = compute
        self.known: dict[Any, Any] = {}

    def __getitem__(self, key: Any) -> Any:
        if key not in self.known:
            self.known[key] = self.compute(key)
        value = self.known[key]
        if value is None or value == []:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("an indexed lookup cannot be listed")

    def __len__(self) -> int:
        raise TypeError("an indexed lookup cannot be counted")
