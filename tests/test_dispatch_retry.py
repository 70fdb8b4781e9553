"""An agent's propose, retried with the same content, returns the open proposal instead of a second one."""

from __future__ import annotations

from pathlib import Path

from conftest import git

from mindmem.agents.dispatch import Dispatcher

BLOCK = (
    "---\nid: D-20261125-00c0de\ntype: decision\ntitle: Retain billing events for 13 months\n"
    "status: active\ncreated: 2026-11-25T12:00:00Z\n---\nFinance needs a year plus a month.\n"
)


def _proposals(repo: Path) -> list[str]:
    return git(repo, "branch", "--list", "proposals/*").split()


def test_a_retried_propose_returns_the_open_proposal(repo: Path) -> None:
    planner = Dispatcher(str(repo), "planner")
    first = planner.staged_change("propose", "finance asked for it", blocks=[BLOCK])
    again = planner.staged_change("propose", "finance asked for it (retry)", blocks=[BLOCK])
    assert "retried" not in first and again["retried"] is True
    assert again["proposal"] == first["proposal"] and len(_proposals(repo)) == 1
    # Inline edits draw a new ID each time; the same type, title and body is still the same proposal.
    note = {"action": "add", "type": "note", "title": "Billing retention is 13 months"}
    made = planner.staged_change("propose", "a note to keep", edits=[note])
    assert planner.staged_change("propose", "a note to keep", edits=[note])["proposal"] == made["proposal"]
    assert len(_proposals(repo)) == 2


def test_other_content_or_another_agent_makes_a_new_proposal(repo: Path) -> None:
    planner = Dispatcher(str(repo), "planner")
    first = planner.staged_change("propose", "finance asked for it", blocks=[BLOCK])
    other = planner.staged_change("propose", "a longer retention", blocks=[BLOCK.replace("13 months", "14 months")])
    by_other_agent = Dispatcher(str(repo), "auditor").staged_change("propose", "same words", blocks=[BLOCK])
    assert len({first["proposal"], other["proposal"], by_other_agent["proposal"]}) == 3
    assert len(_proposals(repo)) == 3
