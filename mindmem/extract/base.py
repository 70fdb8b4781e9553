"""The extraction interface: text in, candidate blocks and edges out, each with the span it came from.

Pure data. Backends (rules, llama-cpp, ctransformers, openai) implement `Extractor`;
`mindmem.extract.propose` turns an `Extraction` into block files and a proposal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from mindmem.store.snapshot import Snapshot

CANDIDATE_TYPES = ("decision", "fact", "task", "incident", "note", "entity")


@dataclass(frozen=True)
class Span:
    """Where in the input a candidate came from: character offsets and the text itself."""

    start: int
    end: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class Candidate:
    """A block the extractor proposes.

    `key` names the candidate inside one extraction, so edges can point at candidates
    that have no ID yet (`key:<key>`); they may also point at existing block IDs.
    Entities carry their final ID (PER-/PRJ-/TOOL-/ORG- slug) in `id`; `existing` is
    true when that entity (or a block a candidate repeats) is already in memory.
    """

    key: str
    type: str
    title: str
    span: Span
    body: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)
    edges: tuple[tuple[str, str], ...] = ()
    id: str | None = None
    existing: bool = False
    confidence: float = 0.5

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "type": self.type,
            "title": self.title,
            "id": self.id,
            "existing": self.existing,
            "fields": dict(self.fields),
            "edges": [{"type": t, "target": x} for t, x in self.edges],
            "body": self.body,
            "confidence": self.confidence,
            "span": self.span.to_json(),
        }


@dataclass(frozen=True)
class Extraction:
    backend: str
    candidates: tuple[Candidate, ...]
    # What was dropped and why (a model's candidate that failed validation, a chunk whose reply was
    # unusable): shown to the person, never silently lost.
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "candidates": [c.to_json() for c in self.candidates],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Context:
    """What an extractor may use besides the text: the date relative dates count from, memory as it is,
    and where to report progress on long inputs (`progress(done, total)`, in chunks or characters)."""

    reference_date: date
    existing: Snapshot
    source: str = "<text>"
    progress: Callable[[int, int], None] | None = None


class Extractor(Protocol):
    name: str

    def extract(self, text: str, context: Context) -> Extraction: ...
