"""What every importer produces, and how an import becomes one proposal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mindmem.errors import BadInput, BlockError
from mindmem.jsonable import Jsonable
from mindmem.store import blocks as b
from mindmem.store.changes import block_path, encode
from mindmem.store.memory import Memory

MAX_TITLE = 100


@dataclass(frozen=True)
class Imported:
    """One block to import: its frontmatter, body, and where in the source it came from."""

    meta: Mapping[str, Any]
    body: str
    source: str


@dataclass(frozen=True)
class ImportPlan(Jsonable):
    """The blocks an import would add, and how many were already in memory (re-imports add nothing)."""

    blocks: tuple[b.Block, ...]
    skipped: int
    commit: str | None


def title_from(text: str) -> str:
    """A one-line title: the first sentence or line, cut at a word boundary."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else "Untitled"
    sentence = line.split(". ", 1)[0].rstrip(".")
    return sentence if len(sentence) <= MAX_TITLE else sentence[:MAX_TITLE].rsplit(" ", 1)[0] + "…"


def plan(memory: Memory, items: list[Imported]) -> ImportPlan:
    """Validate every item as a block (all before any is written) and drop the ones already in memory."""
    tip = memory.git.branch_tip(memory.settings.governed_branch)
    existing = memory.snapshot(tip) if tip else memory.snapshot()
    blocks, seen, skipped = [], set(), 0
    for item in items:
        try:
            block = b.from_mapping(item.meta, item.body, item.source)
        except BlockError as exc:
            raise BadInput(f"{item.source}: cannot import: {exc.reason}") from None
        if block.id in seen:
            raise BadInput(f"{item.source}: {block.id} appears twice in the source")
        seen.add(block.id)
        if block.id in existing:
            skipped += 1
            continue
        blocks.append(block)
    return ImportPlan(tuple(blocks), skipped, tip)


def propose(memory: Memory, import_plan: ImportPlan, *, rationale: str, title: str) -> Any:
    from mindmem import governance

    if not import_plan.blocks:
        raise BadInput(f"nothing new to import ({import_plan.skipped} block(s) already in memory)")
    changes = {block_path(memory.root, block): encode(block) for block in import_plan.blocks}
    return governance.propose(memory, changes, rationale=rationale, title=title)
