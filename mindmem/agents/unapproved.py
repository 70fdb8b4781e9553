"""Read your own writes: the blocks an author's open proposals would add or change.

Recall and MCP reads answer from approved memory only. An agent that proposed a block a
minute ago would otherwise not see it and propose the same thing again. These helpers
list what one author has proposed and not yet had approved, for the dispatchers to return
beside approved memory, under their own key and labelled, never ranked in with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mindmem.errors import BlockError
from mindmem.store.blocks import Block, parse
from mindmem.store.memory import Memory

LABEL = "unapproved: proposed by you and not yet approved by a person; not part of memory"
_WORD = re.compile(r"[\w-]{3,}")


@dataclass(frozen=True)
class ProposedBlock:
    """A block as an open proposal would leave it (`removed`: the proposal deletes it)."""

    proposal: str
    proposal_title: str
    created: str
    block: Block | None
    block_id: str
    action: str  # added | changed | removed

    def to_json(self, *, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "proposal": self.proposal,
            "proposal_title": self.proposal_title,
            "created": self.created,
            "approved": False,
            "action": self.action,
            "id": self.block_id,
        }
        if self.block is not None:
            out.update(type=self.block.type, title=self.block.title, status=self.block.status)
            if full:
                out["block"] = self.block.to_json()
        return out


def proposed_by(memory: Memory, author: str) -> list[ProposedBlock]:
    """Every block in `author`'s open proposals, newest proposal first."""
    from mindmem import governance

    git = memory.git
    out = []
    for proposal in governance.list_proposals(memory):
        if author not in proposal.author.split(", "):
            continue
        created = proposal.to_json()["created"]
        for path, (old, new) in sorted(git.changed_paths(proposal.base, proposal.commit, memory.root).items()):
            block = _parsed(new, path)
            before = _parsed(old, path)
            if block is None and before is None:
                continue
            action = "added" if old is None else ("removed" if new is None else "changed")
            block_id = (block or before).id  # type: ignore[union-attr]
            out.append(ProposedBlock(proposal.id, proposal.title, created, block, block_id, action))
    return out


def _parsed(data: bytes | None, path: str) -> Block | None:
    if data is None:
        return None
    try:
        return parse(data, path)
    except BlockError:
        return None


def matching(items: Iterable[ProposedBlock], query: str) -> list[ProposedBlock]:
    """The proposed blocks that share a word (3+ letters) with the query, in title, ID or body."""
    words = {w.lower() for w in _WORD.findall(query)}
    out = []
    for item in items:
        b = item.block
        text = f"{item.block_id} {b.title} {' '.join(b.tags)} {b.body}" if b else item.block_id
        if words & {w.lower() for w in _WORD.findall(text)}:
            out.append(item)
    return out


def section(items: list[ProposedBlock], *, full: bool = False) -> dict[str, Any]:
    """The key a read returns them under: a label, and the blocks."""
    return {"label": LABEL, "blocks": [item.to_json(full=full) for item in items]}
