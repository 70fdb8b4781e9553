"""The `hybrid` backend: the rules first, then a model adds what they missed.

The rules are quick and precise on the phrasings they know; a model reads looser wording. With a
local GGUF (llama-cpp), the model labels the sentences the rules left (`mindmem.extract.label`),
and the rules build the ones it calls a fact, an incident or (stating a choice or a rule) a
decision; then it names the people, tools and projects of the text, and those the rules missed
that the text holds are added (`mindmem.extract.naming`). With a model server (openai), the model
writes candidates for each chunk, and one whose span overlaps a rules candidate's is dropped (edges
to it point at the rules' one): the sentence was already judged; an entity the rules already have
is kept once.
If the model fails, the rules' candidates stand, with the model's error as a warning.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mindmem.errors import BadInput
from mindmem.extract.base import Candidate, Context, Extraction
from mindmem.extract.label import JsonModel, added, label
from mindmem.extract.naming import ask_names
from mindmem.extract.rules import RulesExtractor


class HybridExtractor:
    name = "hybrid"

    def __init__(self, **options: Any) -> None:
        from mindmem.extract import get_extractor

        # A URL means a model server; otherwise a local GGUF in process.
        self.model = get_extractor("openai" if options.get("url") else "llama-cpp", options)
        self.rules = RulesExtractor()

    @classmethod
    def around(cls, model: Any) -> HybridExtractor:
        """Hybrid with a model already at hand (a server client, a replay of saved replies, a test's
        stand-in) instead of one loaded from the options."""
        hybrid = cls.__new__(cls)
        hybrid.model, hybrid.rules = model, RulesExtractor()
        return hybrid

    def extract(self, text: str, context: Context) -> Extraction:
        try:
            if isinstance(self.model, JsonModel):
                return self._labelled(self.model, text, context)
            return combine(self.rules.extract(text, context), self.model.extract(text, context), self.name)
        except BadInput as exc:
            rules = self.rules.extract(text, context)
            return replace(rules, backend=self.name, warnings=(f"the model added nothing: {exc}",))

    def _labelled(self, model: JsonModel, text: str, context: Context) -> Extraction:
        warnings: list[str] = []

        def judge(said: list[str]) -> list[str]:
            return added(label(model, said, context.progress), said)

        def namer(whole: str) -> list[tuple[str, str, int]]:
            try:  # an unusable list of names costs the names, not the labels
                return ask_names(model, whole)
            except BadInput as exc:
                warnings.append(f"the model named nothing: {exc}")
                return []

        found = self.rules.extract(text, context, judge=judge, namer=namer)
        return replace(found, backend=self.name, warnings=tuple(warnings))


def combine(rules: Extraction, model: Extraction, backend: str = "hybrid") -> Extraction:
    """The rules' candidates, then the model's that say something new, merged by span and entity ID."""
    same: dict[str, str] = {}
    entity_keys = {c.id: c.key for c in rules.candidates if c.id is not None}
    kept: list[Candidate] = []
    for cand in model.candidates:
        twin = entity_keys.get(cand.id) if cand.id is not None else _overlapping(cand, rules.candidates)
        if twin is not None:
            same[cand.key] = twin
        else:
            if cand.id is not None:
                entity_keys[cand.id] = f"m.{cand.key}"
            kept.append(cand)
    out = [*rules.candidates]
    for cand in kept:
        edges = tuple(dict.fromkeys((t, _rekey(target, same)) for t, target in cand.edges))
        out.append(replace(cand, key=f"m.{cand.key}", edges=edges))
    return Extraction(backend, tuple(out), (*rules.warnings, *model.warnings))


def _overlapping(cand: Candidate, others: tuple[Candidate, ...]) -> str | None:
    """A rules candidate (not an entity) from the same sentence: the rules already judged it, and on
    the labelled set their type is right far more often than a small model's."""
    for other in others:
        if other.type != "entity" and other.span.start < cand.span.end and cand.span.start < other.span.end:
            return other.key
    return None


def _rekey(target: str, same: dict[str, str]) -> str:
    if not target.startswith("key:"):
        return target
    key = target[4:]
    return f"key:{same[key]}" if key in same else f"key:m.{key}"
