"""Imports from a mind-mem workspace and a Markdown vault, on real repos."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import fsck, git

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _import(mm, repo, kind: str, source: Path, *args: str):
    result = mm("import", kind, str(source), "--json", *args, cwd=repo)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_mind_mem_workspace_maps_ids_statuses_and_relations(repo, mm):
    data = _import(mm, repo, "mind-mem", EXAMPLES / "mind-mem-workspace", "--dry-run")
    blocks = {b["imported_from"]: b for b in data["blocks"]}
    assert set(blocks) == {
        "mind-mem:D-20260110-001", "mind-mem:D-20260301-002", "mind-mem:T-20260302-001",
        "mind-mem:T-20260302-002", "mind-mem:PER-alice", "mind-mem:SIG-20260108-002",
    }  # fmt: skip
    old, new = blocks["mind-mem:D-20260110-001"], blocks["mind-mem:D-20260301-002"]
    signal, task = blocks["mind-mem:SIG-20260108-002"], blocks["mind-mem:T-20260302-001"]
    assert old["id"].startswith("D-20260110-") and old["status"] == "superseded"
    assert new["edges"] == {"supersedes": [old["id"]], "relates_to": ["PER-alice"]}
    assert new["subject"] == "PRJ-billing" and new["valid_from"] == "2026-03-01"
    assert "partitioning keeps the nightly export fast" in new["body"]  # a continued value
    assert old["edges"] == {"cites": [signal["id"]]} and signal["type"] == "note"
    assert task["status"] == "doing" and task["due"] == "2026-03-15"
    assert task["edges"] == {"depends_on": [new["id"]]}
    assert blocks["mind-mem:PER-alice"]["id"] == "PER-alice"
    assert data["proposal"] is None and git(repo, "branch", "--list", "proposals/*") == ""


def test_import_is_one_proposal_and_reimporting_adds_nothing(repo, mm):
    first = _import(mm, repo, "mind-mem", EXAMPLES / "mind-mem-workspace", "-r", "move the decision log here")
    pid = first["proposal"]
    assert len(git(repo, "diff", "--name-only", "main", f"proposals/{pid}").split()) == 6
    assert mm("approve", pid, cwd=repo).code == 0
    assert mm("validate", cwd=repo).code == 0
    again = mm("import", "mind-mem", str(EXAMPLES / "mind-mem-workspace"), "-r", "move it again", cwd=repo)
    assert again.code == 2 and "nothing new to import (6 block(s) already in memory)" in again.err
    assert git(repo, "branch", "--list", "proposals/*") == ""
    fsck(repo)


def test_markdown_vault_notes_links_tags_and_types(repo, mm):
    data = _import(mm, repo, "markdown", EXAMPLES / "notes-vault", "--dry-run")
    by_title = {b["title"]: b for b in data["blocks"]}
    billing, runbook, plan = by_title["Billing"], by_title["Export runbook"], by_title["Partitioning plan"]
    assert billing["id"] == "PRJ-billing" and billing["type"] == "entity"
    assert plan["type"] == "decision" and plan["id"].startswith("D-20260301-")
    assert runbook["type"] == "note" and runbook["created"] == "2026-03-05T00:00:00Z"
    assert sorted(runbook["tags"]) == ["ops", "runbook"]
    assert billing["edges"] == {"relates_to": [runbook["id"], plan["id"]]}
    assert plan["edges"] == {"relates_to": ["PRJ-billing"]}
    # The old `[[Note title]]` links now name the block and still read the same (Obsidian's alias syntax).
    assert f"See [[{runbook['id']}|Export runbook]] and [[{plan['id']}|Partitioning plan]]." in billing["body"]
    assert billing["aliases"] == ["Billing"] and runbook["aliases"][0] == "Export runbook"
    # Same folder, same IDs: the import is deterministic.
    assert _import(mm, repo, "markdown", EXAMPLES / "notes-vault", "--dry-run")["blocks"] == data["blocks"]


def test_import_bad_input(repo, mm, tmp_path):
    assert mm("import", "mind-mem", str(tmp_path / "missing"), "--dry-run", cwd=repo).code == 2
    (tmp_path / "empty").mkdir()
    assert mm("import", "markdown", str(tmp_path / "empty"), "--dry-run", cwd=repo).code == 2
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "note.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    result = mm("import", "markdown", str(broken), "--dry-run", cwd=repo)
    assert result.code == 2 and "note.md" in result.err
    bad_ws = tmp_path / "ws"
    bad_ws.mkdir()
    (bad_ws / "X.md").write_text("[ZZ-1]\nStatement: what is this\n")
    result = mm("import", "mind-mem", str(bad_ws), "--dry-run", cwd=repo)
    assert result.code == 2 and "unknown prefix ZZ" in result.err
    assert mm("import", "markdown", str(EXAMPLES / "notes-vault"), cwd=repo).code == 2  # no rationale
    assert git(repo, "branch", "--list", "proposals/*") == ""


def test_markdown_link_rewriting_keeps_headings_shown_text_and_code(repo, mm, tmp_path):
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Storage.md").write_text("# Storage\n\nWe use Postgres.\n")
    (vault / "Plan.md").write_text(
        "# Plan\n\nSee [[Storage#Why]], [[storage|the store]], [[Nowhere]] and `[[Storage]]`.\n"
    )
    data = _import(mm, repo, "markdown", str(vault), "--dry-run")
    by_title = {b["title"]: b for b in data["blocks"]}
    storage, plan = by_title["Storage"]["id"], by_title["Plan"]
    assert plan["body"].endswith(
        f"See [[{storage}#Why|Storage]], [[{storage}|the store]], [[Nowhere]] and `[[Storage]]`."
    )
    assert plan["edges"] == {"relates_to": [storage]}
