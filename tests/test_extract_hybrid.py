"""Rules and model together, updates of facts in memory, names that are not entities, and no duplicates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from conftest import git

from mindmem.extract.base import Candidate, Context, Extraction, Span
from mindmem.extract.dedupe import link_existing
from mindmem.extract.hybrid import combine
from mindmem.extract.rules import RulesExtractor
from mindmem.extract.run import default_backend
from mindmem.extract.updates import updated_blocks
from mindmem.store import blocks as b
from mindmem.store.snapshot import Snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "meeting.md"
LIMIT = b.from_mapping(
    {
        "id": "F-20260101-aaaaaa",
        "type": "fact",
        "title": "The API rate limit is 600 requests a minute",
        "status": "active",
        "created": "2026-01-01",
    },
    "",
    "f",
)


def _rules(text: str, existing: Snapshot | None = None) -> Extraction:
    return RulesExtractor().extract(text, Context(date(2026, 11, 23), existing or Snapshot(None), "test"))


def _cand(key: str, kind: str, start: int, end: int, **kw) -> Candidate:
    return Candidate(key=key, type=kind, title=kw.pop("title", key), span=Span(start, end, "x" * (end - start)), **kw)


def test_a_sentence_that_changes_a_fact_in_memory_supersedes_it() -> None:
    memory = Snapshot(None, {LIMIT.id: LIMIT})
    found = _rules("Dana: Heads up, the API rate limit is now 1200 requests a minute.\n", memory)
    (fact,) = [c for c in found.candidates if c.type == "fact"]
    assert fact.edges[0] == ("supersedes", LIMIT.id)
    assert updated_blocks("The rate limit is now 1200 requests a minute", [LIMIT]) == [LIMIT]
    # Same words, same value, no change: not an update. Other words: not about it.
    assert updated_blocks("The API rate limit is 600 requests a minute", [LIMIT]) == []
    assert updated_blocks("We now serve 1200 pages a minute", [LIMIT]) == []


def test_ordinary_abbreviations_and_write_up_labels_are_not_entities() -> None:
    text = (
        "Alice: For the record, VAT rules in the EU changed, so the API needs a new field.\nBob: We will use AWS.\n"
        "Follow-up: Carla will add the field by Friday.\nTom: Let's go with Greenhouse for scheduling.\n"
    )
    entities = {c.id for c in _rules(text).candidates if c.type == "entity"}
    assert entities == {"PER-alice", "PER-bob", "PER-carla", "PER-tom", "TOOL-aws", "TOOL-greenhouse"}


def test_hybrid_keeps_the_rules_and_adds_what_the_model_found_besides() -> None:
    rules = Extraction(
        "rules", (_cand("decision-1", "decision", 0, 40), _cand("PER-bob", "entity", 50, 53, id="PER-bob"))
    )
    model = Extraction(
        "llama-cpp",
        (
            _cand("c1", "decision", 10, 30),  # the rules' decision again
            _cand("c2", "entity", 50, 53, id="PER-bob"),  # and their Bob
            _cand("c3", "task", 50, 90, edges=(("depends_on", "key:c1"), ("relates_to", "key:c2"))),
            _cand("c4", "fact", 0, 40),  # the same sentence judged again: the rules win
            _cand("c5", "fact", 95, 120),  # a sentence the rules passed over
        ),
        ("chunk 1 of 1: candidate 'c5' dropped: line 9 is not one of the 4 numbered lines",),
    )
    merged = combine(rules, model)
    assert [c.key for c in merged.candidates] == ["decision-1", "PER-bob", "m.c3", "m.c5"]
    assert merged.candidates[2].edges == (("depends_on", "key:decision-1"), ("relates_to", "key:PER-bob"))
    assert merged.backend == "hybrid" and merged.warnings == model.warnings


def test_candidates_already_in_memory_are_linked_not_proposed() -> None:
    found = Extraction(
        "rules",
        (
            _cand("a", "fact", 0, 10, title="The API rate limit is 600 requests a minute!"),
            _cand("b", "decision", 0, 10, title="The API rate limit is 600 requests a minute"),
            _cand("c", "entity", 0, 3, id="PER-bob", title="Bob"),
        ),
    )
    linked = link_existing(found, [LIMIT]).candidates
    assert (linked[0].id, linked[0].existing) == (LIMIT.id, True)  # same type, same title once normalised
    assert (linked[1].id, linked[1].existing) == (None, False)  # another type
    assert linked[2].existing is False


def test_default_backend_is_hybrid_only_when_a_model_is_configured(tmp_path: Path) -> None:
    env = {"MM_HOME": str(tmp_path)}
    assert default_backend({}, env) == "rules"
    assert default_backend({"model": "m.gguf"}, env) == "hybrid"
    assert default_backend({}, {**env, "MM_MODEL": "m.gguf"}) == "hybrid"


def test_mm_extract_twice_proposes_nothing_the_second_time(repo: Path, mm) -> None:
    args = ("extract", str(EXAMPLE), "--reference-date", "2026-11-24", "-r", "billing sync notes")
    first = mm(*args, "--json", cwd=repo)
    assert first.code == 0, first.err
    # The first proposal is still open: its blocks count as there.
    again = mm(*args, cwd=repo)
    assert (
        again.code == 2
        and "nothing new to propose (15 candidate(s) already in memory or an open proposal)" in again.err
    )
    assert len(git(repo, "branch", "--list", "proposals/*").split()) == 1
    # A new line in the notes proposes just that, linked to the people already proposed.
    notes = repo.parent / "more.md"
    notes.write_text(EXAMPLE.read_text() + "Bob: We decided to keep the export job on Kubernetes.\n")
    more = mm("extract", str(notes), "--reference-date", "2026-11-24", "-r", "more notes", "--json", cwd=repo)
    assert more.code == 0, more.err
    assert [blk["title"] for blk in json.loads(more.out)["blocks"]] == ["Keep the export job on Kubernetes"]
