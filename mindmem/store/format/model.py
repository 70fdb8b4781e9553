"""The `Block` value and the small values inside it (a constraint, a citation)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mindmem.errors import BadInput
from mindmem.store.format.ids import id_relpath
from mindmem.store.format.links import wiki_links
from mindmem.store.format.schema import CITATION_RE, KEY_ATTRS


@dataclass(frozen=True)
class Constraint:
    """A signature the contradiction checks read: who may or must do what, where."""

    axis: str
    scope: str
    modality: str
    obj: str
    predicate: str | None = None

    def to_mapping(self) -> dict[str, str]:
        out = {"axis": self.axis, "scope": self.scope, "modality": self.modality, "object": self.obj}
        if self.predicate is not None:
            out["predicate"] = self.predicate
        return out


@dataclass(frozen=True)
class Citation:
    path: str
    sha: str
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Block:
    """One memory item. Build it with `parse` or `from_mapping`, which validate."""

    id: str
    type: str
    title: str
    status: str
    created: str
    author: str | None = None
    subject: str | None = None
    predicate: str | None = None
    obj: str | None = None
    constraint: Constraint | None = None
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    # (edge type, targets) in EDGE_TYPES order; edge types with no targets are left out.
    edges: tuple[tuple[str, tuple[str, ...]], ...] = ()
    citations: tuple[str, ...] = ()
    valid_from: str | None = None
    valid_to: str | None = None
    expires: str | None = None
    due: str | None = None
    body: str = ""
    # Keys a person added that the format does not know, in the order they were written.
    extra: tuple[tuple[str, Any], ...] = field(default=())

    def targets(self, edge_type: str) -> tuple[str, ...]:
        return dict(self.edges).get(edge_type, ())

    def all_edges(self) -> Iterator[tuple[str, str]]:
        """Every (edge type, target), explicit edges first, then body wiki links as relates_to."""
        for edge_type, targets in self.edges:
            for target in targets:
                yield edge_type, target
        explicit = set(self.targets("relates_to"))
        for target in self.wiki_links:
            if target not in explicit:
                yield "relates_to", target

    @cached_property
    def wiki_links(self) -> tuple[str, ...]:
        return wiki_links(self.body)

    def parsed_citations(self) -> tuple[Citation, ...]:
        return tuple(parse_citation(c) for c in self.citations)

    def to_mapping(self) -> dict[str, Any]:
        """The frontmatter as a plain mapping, in canonical key order."""
        out: dict[str, Any] = {}
        for key, attr in KEY_ATTRS.items():
            value = getattr(self, attr)
            if value is None or value == ():
                continue
            if key == "constraint":
                value = value.to_mapping()
            elif key == "edges":
                value = {t: list(ids) for t, ids in value}
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        for key, value in self.extra:
            out[key] = value
        return out

    def to_json(self) -> dict[str, Any]:
        return {**self.to_mapping(), "body": self.body}


def block_relpath(block: Block) -> str:
    """Where a block lives under the memory root."""
    return id_relpath(block.id)


def parse_citation(text: str) -> Citation:
    m = CITATION_RE.match(text)
    if not m:
        raise BadInput(f"citation '{text}' must look like path@sha or path@sha#L10-L42")
    start = int(m["start"]) if m["start"] else None
    end = int(m["end"]) if m["end"] else start
    return Citation(m["path"], m["sha"], start, end)
