"""`CheckContext`: what one run of the checks looks at, and the lookups the families share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mindmem.checks.catalog import Catalog
from mindmem.errors import BlockError
from mindmem.store.snapshot import Snapshot, scan

if TYPE_CHECKING:
    from mindmem.store.blocks import Block
    from mindmem.store.repo import GitRepo


def _today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class CheckContext:
    """The snapshot to check and which part of it is in scope.

    `touched` is the set of block IDs that changed (also IDs that were deleted);
    None means every block is in scope. Checks look at the touched blocks and
    at whatever they meet (neighbours, blocks sharing a subject, axis or entity),
    and report only findings that involve a touched block.
    """

    snapshot: Snapshot
    root: str
    catalog: Catalog | None = None  # digests of every block; built from `snapshot` when not given
    label: str = "work tree"
    problems: tuple[BlockError, ...] = ()
    stray: tuple[str, ...] = ()
    touched: frozenset[str] | None = None
    touched_paths: frozenset[str] | None = None
    read: Callable[[str], bytes | None] | None = None
    repo: GitRepo | None = None
    code_rev: str | None = None
    today: date = field(default_factory=_today)
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.catalog is None:
            paths = self.snapshot.paths
            object.__setattr__(
                self, "catalog", Catalog.of(((paths[i], b) for i, b in self.blocks.items()), self.options)
            )

    @property
    def blocks(self) -> Mapping[str, Block]:
        return self.snapshot.blocks

    def in_scope(self, block_id: str) -> bool:
        return self.touched is None or block_id in self.touched

    def path_in_scope(self, path: str) -> bool:
        return self.touched_paths is None or path in self.touched_paths

    @cached_property
    def focus(self) -> list[Block]:
        """The blocks whose own content is checked: the touched ones that exist, or all."""
        if self.touched is None:
            return list(self.blocks.values())
        return [self.blocks[i] for i in sorted(self.touched) if i in self.blocks]

    def path_of(self, block_id: str) -> str | None:
        return self.snapshot.paths.get(block_id)

    def text(self, block_id: str) -> str | None:
        """The raw text of a block's file, as it is in the snapshot."""
        path = self.path_of(block_id)
        data = self.read(path) if (self.read and path) else None
        return data.decode("utf-8", "replace") if data is not None else None

    def line_of(self, block_id: str, needle: str, *, start: bool = True) -> int | None:
        """1-based line of the first line of a block's file that starts with (or, `start=False`, holds) `needle`."""
        text = self.text(block_id)
        if text is None:
            return None
        for number, line in enumerate(text.splitlines(), 1):
            if line.startswith(needle) if start else needle in line:
                return number
        return None

    @cached_property
    def incoming(self) -> Mapping[str, list[tuple[str, str]]]:
        """target ID -> [(source ID, edge type)] over every block (body wiki links included), for the
        touched targets (all targets when everything is in scope): checks ask only about those."""
        return self.catalog.incoming(self.touched)

    def upstream(self, ids: Iterable[str]) -> Snapshot:
        """The blocks `ids` and every block that reaches one of them along edges, read from the checked
        tree: enough for graph impact on those blocks, without reading the rest of the tree."""
        seen = set(ids)
        todo = sorted(seen)
        while todo:
            incoming = self.catalog.incoming(frozenset(todo))
            todo = sorted({source for t in todo for source, _ in incoming.get(t, ()) if source not in seen})
            seen.update(todo)
        files = []
        for block_id in sorted(seen):
            path = self.catalog.path_of(block_id)
            data = self.read(path) if (path and self.read) else None
            if path is not None and data is not None:
                files.append((path, data))
        return scan(files, self.root, self.snapshot.commit, strict_paths=False)[0]
