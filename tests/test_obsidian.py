"""Obsidian as an editor of the memory folder: its link forms are edges, its notes are left alone,
and blocks carry their title as an alias so the vault shows titles, not IDs."""

from __future__ import annotations

import json

from check_helpers import put
from conftest import git

A = "D-20260101-aaaaaa"
B = "F-20260101-bbbbbb"
C = "PER-alice"


def test_alias_and_heading_links_are_relates_to_edges(repo, mm):
    put(repo, B, "Billing runs nightly")
    put(repo, C, "Alice")
    put(repo, A, "Use queues", body=f"Because [[{B}|the nightly run]] is slow; ask [[{C}#Contact]].")
    data = json.loads(mm("graph", "expand", A, "--json", cwd=repo).out)
    assert {(hop["id"], hop["via"]["type"]) for hop in data["hops"]} == {(B, "relates_to"), (C, "relates_to")}


def test_notes_that_are_not_blocks_are_a_validate_warning_and_ignored_elsewhere(repo, mm):
    put(repo, A, "Use queues")
    (repo / "memory/Meeting notes.md").write_text("# Meeting\n\nWe talked about [[Use queues]].\n")
    (repo / "memory/decisions/Untitled.md").write_text("---\ntags:\n  - draft\n---\nhalf a thought\n")
    for words in (["list"], ["graph", "expand", A], ["check"]):
        result = mm(*words, cwd=repo)
        assert result.code == 0, (words, result.err)
    assert mm("new", "note", "-t", "Still works", cwd=repo).code == 0
    validate = mm("validate", cwd=repo)
    assert validate.code == 0
    assert "memory/Meeting notes.md: warning: a Markdown note, not a block" in validate.out
    assert "2 block file(s), 0 problem(s), 2 note(s) ignored" in validate.out
    warnings = json.loads(mm("validate", "--json", cwd=repo).out)["warnings"]
    assert [w["path"] for w in warnings] == ["memory/Meeting notes.md", "memory/decisions/Untitled.md"]


def test_new_blocks_carry_their_title_as_an_alias(repo, mm):
    block_id = mm("new", "decision", "-t", "Store billing events in PostgreSQL", cwd=repo).out.strip()
    text = next((repo / "memory/decisions").glob(f"{block_id}.md")).read_text()
    assert "aliases:\n  - Store billing events in PostgreSQL\n" in text
    assert mm("fmt", "--check", cwd=repo).code == 0
    git(repo, "add", "memory")
