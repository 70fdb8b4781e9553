"""Running an extraction against a memory repo, and turning its candidates into one proposal."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from mindmem.errors import BadInput
from mindmem.extract import get_extractor
from mindmem.extract.assemble import to_blocks, to_changes
from mindmem.extract.base import Context, Extraction
from mindmem.extract.dedupe import link_existing, open_proposal_blocks
from mindmem.store import blocks as b
from mindmem.store.config import user_config
from mindmem.store.memory import Memory


@dataclass(frozen=True)
class Extracted:
    """What an extraction found, and the blocks it would propose (validated, IDs drawn)."""

    extraction: Extraction
    blocks: tuple[b.Block, ...]
    commit: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extraction.to_json(),
            "commit": self.commit,
            "blocks": [block.to_json() for block in self.blocks],
        }


def extract(
    memory: Memory,
    text: str,
    *,
    backend: str | None = None,
    options: Mapping[str, Any] | None = None,
    reference_date: date | None = None,
    source: str = "<text>",
    progress: Callable[[int, int], None] | None = None,
) -> Extracted:
    """Extract candidates from `text`, against the governed branch (entities merge with those already there).

    Candidates that repeat a block in memory or in an open proposal are linked to it, not proposed
    again. Without a `backend`: `hybrid` when a model is configured, else `rules`.
    """
    if not text.strip():
        raise BadInput(f"{source} is empty: nothing to extract")
    options = dict(options or {})
    backend = backend or default_backend(options)
    tip = memory.git.branch_tip(memory.settings.governed_branch)
    existing = memory.snapshot(tip) if tip else memory.snapshot()
    context = Context(reference_date or b.now_utc().date(), existing, source, progress)
    extraction = get_extractor(backend, options).extract(text, context)
    extraction = link_existing(extraction, [*existing.blocks.values(), *open_proposal_blocks(memory)])
    blocks = to_blocks(extraction, author=memory.author(), when=b.now_utc(), taken=existing.__contains__)
    return Extracted(extraction, tuple(blocks), tip)


def default_backend(options: Mapping[str, Any], env: Mapping[str, str] | None = None) -> str:
    """`hybrid` when a model is configured (an option, MM_MODEL or the user config), else `rules`."""
    env = os.environ if env is None else env
    configured = options.get("model") or options.get("url") or env.get("MM_MODEL") or user_config(env).get("model")
    return "hybrid" if configured else "rules"


def propose(memory: Memory, extracted: Extracted, *, rationale: str, title: str | None = None) -> Any:
    """One proposal holding every new block of the extraction."""
    from mindmem import governance

    if not extracted.blocks:
        linked = sum(1 for c in extracted.extraction.candidates if c.existing)
        raise BadInput(f"nothing new to propose ({linked} candidate(s) already in memory or an open proposal)")
    changes = to_changes(list(extracted.blocks), memory.root)
    title = title or f"Extract {len(extracted.blocks)} blocks ({extracted.extraction.backend})"
    return governance.propose(memory, changes, rationale=rationale, title=title)
