"""Which facts and decisions in memory a sentence updates ("the rate limit is now 1200" when a fact
says 600): the same words with another value, or the same words and a word that says it changed.

Shared by the rules backend (which proposes the update as a `supersedes` of the old block) and the
model backends (which list those blocks in the prompt, so an edge may point at them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mindmem.blocks import Block

_WORD = re.compile(r"[a-z][a-z0-9_-]*|\d+(?:[.,]\d+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CHANGED = re.compile(
    r"\b(?:now|no longer|instead|changed|raised|lowered|increased|decreased|reduced|bumped|moved|"
    r"switched|replaced|updated|from \S+ to)\b",
    re.I,
)
_COMMON = frozenset(
    ("the", "a", "an", "to", "of", "for", "and", "or", "in", "on", "we", "is", "are", "be", "it", "that", "this",
     "with", "will", "by", "our", "from", "at", "as", "was", "were", "has", "have", "now", "no", "longer",
     "instead", "per", "each", "every", "all", "any", "not")
)  # fmt: skip
UPDATABLE = ("fact", "decision")
MIN_SHARED = 2


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _COMMON and not _NUMBER.fullmatch(w)}


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def updated_blocks(sentence: str, blocks: Iterable[Block]) -> list[Block]:
    """Active facts and decisions the sentence gives a new value for, best match first."""
    words, numbers = _words(sentence), _numbers(sentence)
    changed = bool(_CHANGED.search(sentence))
    found: list[tuple[float, Block]] = []
    for block in blocks:
        if block.type not in UPDATABLE or block.status != "active":
            continue
        theirs = _words(block.title)
        shared = words & theirs
        if len(shared) < MIN_SHARED or len(shared) < len(theirs) / 2:
            continue
        old = _numbers(block.title)
        new_value = bool(numbers - old) and bool(old - numbers)
        if new_value or (changed and numbers != old):
            found.append((len(shared) / len(theirs), block))
    return [block for _, block in sorted(found, key=lambda item: -item[0])]
