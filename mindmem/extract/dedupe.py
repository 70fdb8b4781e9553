"""Candidates that memory already holds are linked, not proposed again.

A candidate is the same as a block in memory, or in an open proposal, when it has the same type and
the same title once normalised (case, punctuation, spacing), or when the block's title or body holds
its span. Such a candidate takes the block's ID and is marked `existing`: edges to it point at that
block, and no new block is made. So `mm extract` run twice on the same file proposes nothing new.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace

from mindmem.extract.base import Candidate, Extraction
from mindmem.store.blocks import Block

_WORD = re.compile(r"[a-z0-9]+")


def norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def link_existing(extraction: Extraction, blocks: Iterable[Block]) -> Extraction:
    """The extraction with each candidate that repeats one of `blocks` marked existing, with its ID."""
    by_title: dict[tuple[str, str], str] = {}
    texts: list[tuple[str, str, str]] = []  # (type, normalised title + body, ID)
    ids: set[str] = set()
    for block in blocks:
        ids.add(block.id)
        by_title.setdefault((block.type, norm(block.title)), block.id)
        texts.append((block.type, norm(block.title + " " + block.body), block.id))
    return replace(extraction, candidates=tuple(_linked(c, by_title, texts, ids) for c in extraction.candidates))


def _linked(
    cand: Candidate, by_title: dict[tuple[str, str], str], texts: list[tuple[str, str, str]], ids: set[str]
) -> Candidate:
    if cand.existing:
        return cand
    if cand.id is not None:  # an entity: its ID says which
        return replace(cand, existing=True) if cand.id in ids else cand
    found = by_title.get((cand.type, norm(cand.title)))
    span = norm(cand.span.text)
    if found is None and len(span) >= 12:
        found = next((i for t, body, i in texts if t == cand.type and span in body), None)
    return replace(cand, id=found, existing=True) if found else cand


def open_proposal_blocks(memory: object) -> Iterator[Block]:
    """The blocks that open proposals add or change, as each proposal has them."""
    from mindmem import governance as gov

    for proposal in gov.list_proposals(memory):  # type: ignore[arg-type]
        snapshot = memory.snapshot(proposal.head)  # type: ignore[attr-defined]
        yield from (snapshot.blocks[i] for i in proposal.blocks if i in snapshot.blocks)
