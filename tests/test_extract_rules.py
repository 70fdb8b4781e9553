"""Rules extraction on hand-written transcripts, and `mm extract` end to end on real repos."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from conftest import git

from mindmem.extract.base import Context
from mindmem.extract.dates import find_dates
from mindmem.extract.rules import RulesExtractor
from mindmem.store.snapshot import Snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "meeting.md"
MONDAY = date(2026, 11, 23)


def _extract(text: str, existing: Snapshot | None = None, ref: date = MONDAY):
    return RulesExtractor().extract(text, Context(ref, existing or Snapshot(None), "test"))


def _by_type(extraction, kind: str):
    return [c for c in extraction.candidates if c.type == kind]


def test_relative_dates_resolve_against_the_reference_date():
    resolved = {d.text: d.value.isoformat() for d in find_dates(
        "by Friday, in two weeks, next Monday, tomorrow, end of month, 3 days ago, March 3, 2026-12-24", MONDAY
    )}  # fmt: skip
    assert resolved == {
        "by Friday": "2026-11-27",
        "in two weeks": "2026-12-07",
        "next Monday": "2026-11-30",
        "tomorrow": "2026-11-24",
        "end of month": "2026-11-30",
        "3 days ago": "2026-11-20",
        "March 3": "2027-03-03",
        "2026-12-24": "2026-12-24",
    }
    assert find_dates("went down on Saturday", MONDAY, past=True)[0].value == date(2026, 11, 21)


def test_meeting_transcript_gives_the_expected_blocks():
    text = EXAMPLE.read_text()
    found = _extract(text, ref=date(2026, 11, 24))
    entities = {c.id for c in _by_type(found, "entity")}
    assert {"PER-alice-moreno", "PER-bob-chen", "PER-priya-shah", "TOOL-mysql", "TOOL-postgresql"} <= entities
    decisions = {c.title: c for c in _by_type(found, "decision")}
    assert set(decisions) == {
        "Move billing events from MySQL to PostgreSQL with monthly partitions",
        "Every schema change to the events table goes through a migration review",
    }
    move = decisions["Move billing events from MySQL to PostgreSQL with monthly partitions"]
    assert move.fields["subject"] == "TOOL-postgresql"
    assert ("relates_to", "TOOL-mysql") in move.edges
    assert text[move.span.start : move.span.end] == move.span.text
    tasks = {c.title: c.fields for c in _by_type(found, "task")}
    assert tasks["Bob will write the partitioning migration by Friday"] == {
        "due": "2026-11-27",
        "assignee": "PER-bob-chen",
    }
    assert tasks["Update the runbook for the export job in two weeks"]["due"] == "2026-12-08"
    assert tasks["I'll ping Priya about the retention policy tomorrow"]["assignee"] == "PER-bob-chen"
    incidents = {c.title: c.fields for c in _by_type(found, "incident")}
    outage = incidents["The nightly export went down on Saturday and the billing team was paged at 03:00"]
    assert outage["valid_from"] == "2026-11-21"
    facts = {c.title for c in _by_type(found, "fact")}
    assert "Billing events arrive at about 2000 per second at peak" in facts
    # Small talk is not memory.
    assert not any("recap" in c.title.lower() for c in found.candidates)


def test_entities_merge_with_memory_and_new_decisions_supersede_old_ones(repo, mm):
    alice = mm("new", "person", "-t", "Alice Moreno", "--set", "aliases=[Ally]", cwd=repo).out.strip()
    billing = mm("new", "project", "-t", "Billing", cwd=repo).out.strip()
    old = mm(
        "new", "decision", "-t", "Store billing events in MySQL", "--set", f"subject={billing}", cwd=repo
    ).out.strip()
    incident = mm("new", "incident", "-t", "Export outage", "--edge", f"relates_to:{billing}", cwd=repo).out.strip()
    from mindmem.store.memory import Memory

    snapshot = Memory(repo).snapshot()
    text = "Ally: We decided to move the Billing project from MySQL to PostgreSQL.\n"
    found = _extract(text, snapshot)
    assert not _by_type(found, "entity") or {c.id for c in _by_type(found, "entity")} == {
        "TOOL-mysql",
        "TOOL-postgresql",
    }
    (decision,) = _by_type(found, "decision")
    assert decision.fields["subject"] == billing
    assert ("supersedes", old) in decision.edges
    assert ("relates_to", alice) in decision.edges
    assert ("relates_to", incident) in decision.edges


def test_mm_extract_proposes_once_and_rerunning_adds_nothing(repo, mm):
    dry = mm("extract", str(EXAMPLE), "--reference-date", "2026-11-24", "--dry-run", "--json", cwd=repo)
    assert dry.code == 0, dry.err
    data = json.loads(dry.out)
    assert data["proposal"] is None and len(data["blocks"]) == 15
    assert git(repo, "branch", "--list", "proposals/*") == ""
    assert mm("extract", str(EXAMPLE), "--reference-date", "2026-11-24", cwd=repo).code == 2  # no rationale
    made = mm("extract", str(EXAMPLE), "-r", "billing sync notes", "--reference-date", "2026-11-24", "--json", cwd=repo)
    assert made.code == 0, made.err
    pid = json.loads(made.out)["proposal"]
    files = git(repo, "diff", "--name-only", "main", f"proposals/{pid}").split()
    assert len(files) == 15
    assert mm("approve", pid, cwd=repo).code == 0
    assert mm("validate", cwd=repo).code == 0
    again = mm("extract", str(EXAMPLE), "-r", "billing sync notes", "--reference-date", "2026-11-24", cwd=repo)
    assert again.code == 2 and "nothing new" in again.err
    assert git(repo, "branch", "--list", "proposals/*") == ""


def test_mm_extract_bad_input(repo, mm, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\xff\xfe\x00meeting")
    assert mm("extract", str(empty), "--dry-run", cwd=repo).code == 2
    assert mm("extract", str(binary), "--dry-run", cwd=repo).code == 2
    assert mm("extract", str(tmp_path / "missing.md"), "--dry-run", cwd=repo).code == 2
    assert mm("extract", str(EXAMPLE), "--dry-run", "--reference-date", "24/11/2026", cwd=repo).code == 2
    assert mm("extract", str(EXAMPLE), "--dry-run", "--backend", "psychic", cwd=repo).code == 2
    stdin = mm("extract", "-", "--dry-run", "--json", cwd=repo, stdin="Bob: TODO: rotate the API keys by Friday.\n")
    (task,) = [b for b in json.loads(stdin.out)["blocks"] if b["type"] == "task"]
    assert task["title"] == "Rotate the API keys by Friday" and task["assignee"] == "PER-bob"


def test_a_title_states_nothing_and_names_in_any_sentence_are_entities():
    text = (
        "Incident report - queue backlog\n\n"
        "The queue backed up on Sunday.\n"
        "Sam: the Stripe webhook secret had expired.\n"
        "I told Ana the fix is live.\n"
    )
    found = _extract(text)
    assert not [c for c in found.candidates if c.span.text.startswith("Incident report")]
    ids = {c.id for c in _by_type(found, "entity")}
    # The speaker and the product qualifying a noun, though neither sentence becomes a block;
    # a person named without a cue ("told Ana the …") is no product.
    assert ids == {"PER-sam", "TOOL-stripe"}


def test_decisions_and_tasks_with_words_between_their_cues():
    text = (
        "- we agreed yesterday to freeze infra changes in December.\n"
        "- Agreed with the SRE team: logs are kept for 14 days.\n"
        "- Decision from the security review: keys rotate every 30 days.\n"
        "- we have not decided on the logo yet.\n"
        "- Lee to draft the release notes by December 3.\n"
        "- will add partition filters to the queries by Friday.\n"
    )
    found = _extract(text)
    assert [c.span.text[:20] for c in _by_type(found, "decision")] == [
        "we agreed yesterday ", "Agreed with the SRE ", "Decision from the se",
    ]  # fmt: skip
    tasks = _by_type(found, "task")
    assert [(c.span.text[:12], c.fields.get("due")) for c in tasks] == [
        ("Lee to draft", "2026-12-03"), ("will add par", "2026-11-27"),
    ]  # fmt: skip


def test_a_text_of_one_line_is_no_title():
    for text in ("we decided to use Kafka for events", "we decided to use Kafka for events\n\n"):
        assert [c.span.text for c in _by_type(_extract(text), "decision")] == ["we decided to use Kafka for events"]


def test_a_chat_handle_after_a_time_stamp_is_its_speaker():
    text = (
        "[10:05] dan: the deploy finished, FYI the cache is stored in Redis\n"
        "[10:06] rosa: let's agree on a freeze from Friday\n"
        "- note: not a speaker without a stamp\n"
    )
    found = _extract(text)
    assert {c.id for c in _by_type(found, "entity")} >= {"PER-dan", "PER-rosa"}
    assert "PER-note" not in {c.id for c in found.candidates}
    (decision,) = _by_type(found, "decision")
    # The stamp and the handle are the line's speaker, not part of what was said.
    assert decision.span.text == "let's agree on a freeze from Friday" and decision.title.startswith("Let's agree")
    assert ("relates_to", "PER-rosa") in decision.edges
