"""Which facts and decisions in memory a sentence updates ("the rate limit is now 1200" when a fact
says 600): the same words with another value, or the same words and a word that says it changed.

Shared by the rules backend (which proposes the update as a `supersedes` of the old block) and the
model backends (which list those blocks in the prompt, so an edge may point at them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mindmem.store.blocks import Block

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


class Updates:
    """The active facts and decisions of a memory, indexed by title word, to ask per sentence which
    of them it updates. Built once per extraction: a sentence costs a look-up per word, not a scan."""

    def __init__(self, blocks: Iterable[Block]) -> None:
        self.entries: list[tuple[Block, set[str], set[str]]] = []
        self.by_word: dict[str, list[int]] = {}
        for block in blocks:
            if block.type in UPDATABLE and block.status == "active":
                words = _words(block.title)
                for word in words:
                    self.by_word.setdefault(word, []).append(len(self.entries))
                self.entries.append((block, words, _numbers(block.title)))

    def of(self, sentence: str) -> list[Block]:
        """Active facts and decisions the sentence gives a new value for, best match first."""
        if not self.entries:
            return []
        numbers = _numbers(sentence)
        changed = bool(_CHANGED.search(sentence))
        if not (numbers or changed):
            return []
        shared: dict[int, int] = {}
        for word in _words(sentence):
            for i in self.by_word.get(word, ()):
                shared[i] = shared.get(i, 0) + 1
        found: list[tuple[float, Block]] = []
        for i, count in shared.items():
            block, theirs, old = self.entries[i]
            if count < MIN_SHARED or count < len(theirs) / 2:
                continue
            new_value = bool(numbers - old) and bool(old - numbers)
            if new_value or (changed and numbers != old):
                found.append((count / len(theirs), block))
        return [block for _, block in sorted(found, key=lambda item: -item[0])]


def updated_blocks(sentence: str, blocks: Iterable[Block]) -> list[Block]:
    """Active facts and decisions the sentence gives a new value for, best match first."""
    return Updates(blocks).of(sentence)
