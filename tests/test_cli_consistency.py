"""One command line: usage errors look like every other error, help lines are whole, keys agree."""

from __future__ import annotations

import json

import pytest
from conftest import approve, new_block, propose

from mindmem.agents.dispatch import Dispatcher
from mindmem.errors import BadInput


def test_usage_errors_are_one_mm_error_line_with_exit_2(repo, mm):
    for args, message in (
        (["check", "--bogus"], "mm: error: Unrecognized arguments: --bogus (see `mm check --help`)"),
        (["graph", "expand"], "mm: error: The following arguments are required: ID (see `mm graph expand --help`)"),
        (["frobnicate"], "mm: error: No such command 'frobnicate'. (see `mm --help`)"),
    ):
        result = mm(*args, cwd=repo)
        assert (result.code, result.err.strip()) == (2, message)


def test_top_level_help_shows_whole_first_lines(mm):
    out = mm("--help").out
    commands = out.split("commands:", 1)[1]
    assert "..." not in commands
    assert "Check memory blocks: schema, graph, contradictions, freshness," in out
    assert "Write or update the pull-request CI workflow in this memory repo." in out


def test_missing_rationale_names_the_flag(repo, mm):
    new_block(mm, repo, "note", "-t", "Deploy notes")
    result = mm("propose", cwd=repo)
    assert result.code == 2 and "-r/--rationale" in result.err


def test_approve_json_says_commit_like_mcp(repo, mm):
    new_block(mm, repo, "note", "-t", "Deploy notes")
    pid = propose(mm, repo, "-r", "notes from the deploy")
    data = json.loads(mm("approve", pid, "--json", cwd=repo).out)
    assert "sha" not in data and len(data["commit"]) == 40


def test_fmt_json(repo, mm):
    path = repo / "memory/notes" / f"{new_block(mm, repo, 'note', '-t', 'Deploy notes')}.md"
    path.write_text(path.read_text().replace("title: Deploy notes", "title:   Deploy notes"))
    checked = mm("fmt", "--check", "--json", cwd=repo)
    assert checked.code == 1 and json.loads(checked.out) == {
        "check": True,
        "changed": [path.relative_to(repo).as_posix()],
        "canonical": False,
    }
    assert json.loads(mm("fmt", "--json", cwd=repo).out)["changed"] == [path.relative_to(repo).as_posix()]
    assert json.loads(mm("fmt", "--check", "--json", cwd=repo).out)["canonical"] is True


def test_the_library_names_parameters_and_the_cli_names_its_flags(repo, mm):
    """An agent over MCP cannot pass `--add`; the same error reaches it in parameter words."""
    block = new_block(mm, repo, "note", "-t", "Deploy notes")
    approve(mm, repo, propose(mm, repo, "-r", "notes from the deploy"))
    cli = mm("propose", "--edit", block, "--supersede", block, "-r", "replace the notes", cwd=repo)
    assert (cli.code, cli.err.strip()) == (2, "mm: error: --supersede goes with --add (the new block that replaces it)")
    agent = Dispatcher(str(repo), "bot")
    edit = {"action": "edit", "id": block, "supersedes": block}
    with pytest.raises(BadInput) as caught:
        agent.staged_change("propose", "replace the notes", edits=[edit])
    assert str(caught.value) == "supersede goes with add (the new block that replaces it)"


def test_a_value_with_braces_is_named_back_as_given(repo, mm):
    result = mm("recall", "billing", "--mode", "{oops", cwd=repo)
    assert (result.code, result.err.strip()) == (
        2,
        "mm: error: unknown --mode '{oops'; expected one of similar, verify, intent, diagnose, bundle",
    )
