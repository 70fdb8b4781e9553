"""The command tree (`mindmem/cli/commands.py`): declared parameters parse as declared, usage errors
are one line with exit 2, and `mm --help` builds no command's parser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Optional

import pytest
from conftest import new_block

from mindmem.cli import app
from mindmem.cli.commands import Argument, Command, Group, Option, UsageError, described


def _group() -> tuple[Group, list[dict]]:
    calls: list[dict] = []
    group = Group(name="demo", help="A demo group.\n\nMore text.")

    @group.command()
    def run_it(
        target: Annotated[str, Argument(metavar="ID", help="What to run.")],
        files: Annotated[Optional[list[Path]], Option("--file", "-f", help="Repeatable.")] = None,
        depth: Annotated[int, Option("--depth", min=0, help="Hops.")] = 1,
        label: Annotated[Optional[str], Option(help="A label.")] = None,
        quiet: Annotated[bool, Option("--quiet", help="Say less.")] = False,
    ) -> None:
        """Run one thing.

        \b
        Example:
          demo run-it X --file a --file b
        """
        calls.append({"target": target, "files": files, "depth": depth, "label": label, "quiet": quiet})

    @group.command("pass", hidden=True, passthrough=True)
    def pass_(
        name: Annotated[str, Argument(help="A name.")],
        rest: Annotated[Optional[list[str]], Argument(help="The rest.")] = None,
    ) -> None:
        """Pass the rest through."""
        calls.append({"name": name, "rest": rest})

    @group.command()
    def gather(
        items: Annotated[Optional[list[str]], Argument(help="Items.")] = None,
        loud: Annotated[bool, Option("--loud", help="Say more.")] = False,
    ) -> None:
        """Gather items."""
        calls.append({"items": items, "loud": loud})

    return group, calls


def test_options_may_come_between_arguments():
    group, calls = _group()
    group.run(["gather", "a.md", "--loud", "b.md"], "demo")
    group.run(["gather"], "demo")
    assert calls == [{"items": ["a.md", "b.md"], "loud": True}, {"items": [], "loud": False}]


def test_values_convert_by_their_declared_type():
    group, calls = _group()
    group.run(["run-it", "X", "-f", "a.md", "--file", "b.md", "--depth", "3", "--label", "L", "--quiet"], "demo")
    group.run(["run-it", "Y"], "demo")
    assert calls == [
        {"target": "X", "files": [Path("a.md"), Path("b.md")], "depth": 3, "label": "L", "quiet": True},
        {"target": "Y", "files": None, "depth": 1, "label": None, "quiet": False},
    ]


def test_a_passthrough_command_takes_options_as_arguments():
    group, calls = _group()
    group.run(["pass", "pre-commit", "--amend", "-x", "file"], "demo")
    assert calls == [{"name": "pre-commit", "rest": ["--amend", "-x", "file"]}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run-it"], "The following arguments are required: ID"),
        (["run-it", "X", "--bogus"], "Unrecognized arguments: --bogus"),
        (["run-it", "X", "--depth", "x"], "Argument --depth: invalid int value: 'x'"),
        (["run-it", "X", "--depth", "-1"], "--depth: -1 is less than 0"),
        (["run-it", "X", "--dep", "2"], "Unrecognized arguments: --dep 2"),  # no abbreviations
        (["run-itt"], "No such command 'run-itt'. Did you mean 'run-it'?"),
        (["--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_errors_name_the_problem_and_the_help(args, message):
    group, calls = _group()
    with pytest.raises(UsageError) as caught:
        group.run(args, "demo")
    prog = "demo run-it" if args[0] == "run-it" else "demo"
    assert str(caught.value) == f"{message} (see `{prog} --help`)"
    assert caught.value.exit_code == 2 and calls == []


def test_a_hidden_command_runs_but_is_not_listed():
    group, _ = _group()
    text = group.help_text("demo")
    assert "run-it" in text and "Run one thing." in text
    assert "pass" not in text.split("commands:")[1]
    assert [words for words, _ in group.walk()] == [("run-it",), ("pass",), ("gather",)]


def test_command_help_keeps_example_lines_and_shows_defaults(capsys):
    group, _ = _group()
    with pytest.raises(SystemExit) as done:
        group.run(["run-it", "--help"], "demo")
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: demo run-it")
    assert "Example:\n  demo run-it X --file a --file b\n" in out
    assert "--depth INTEGER" in out and "[default: 1]" in out
    assert "--file PATH, -f PATH" in out


def test_paragraphs_rewrap_but_marked_blocks_keep_their_lines():
    text = "One two\nthree four five.\n\n\b\nkeep\n  this"
    assert described(text, 12) == "One two\nthree four\nfive.\n\nkeep\n  this"


def test_a_group_without_a_command_prints_its_help_and_exits_2(mm, tmp_path):
    result = mm("graph", cwd=tmp_path)
    assert result.code == 2 and result.err.startswith("usage: mm graph COMMAND")
    assert "expand" in result.err and result.out == ""


def test_root_options(mm, repo, tmp_path):
    assert mm("--version").out.startswith("mm ")
    new_block(mm, repo, "note", "-t", "Deploy notes")
    spaced, joined = mm("-C", str(repo), "list", "--json"), mm(f"-C{repo}", "list", "--json")
    assert spaced.code == joined.code == 0
    assert json.loads(spaced.out) == json.loads(joined.out) and json.loads(spaced.out)
    elsewhere = mm("list", cwd=tmp_path)
    assert elsewhere.code != 0 and "not a git repository" in elsewhere.err
    assert mm("-C").err == "mm: error: Option '-C' requires an argument. (see `mm --help`)\n"


def test_every_declared_command_builds_its_parser():
    for words, command in app.walk():
        parser = command.parser("mm " + " ".join(words))
        assert "--help" in parser.format_help(), words


def test_root_help_builds_no_parser_and_loads_no_library(tmp_path):
    probe = (
        "import sys, io; from mindmem.cli import app, main\n"
        "sys.stdout = io.StringIO()\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "built = [w for w, c in app.walk() if 'parameters' in vars(c)]\n"
        "heavy = [m for m in ('pygit2', 'mindmem.store.memory', 'mindmem.checks', 'whoosh') if m in sys.modules]\n"
        "print(built, heavy, file=sys.__stdout__)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.strip() == "[] []"


def test_root_help_lists_each_visible_command_with_its_first_paragraph(mm):
    out = mm("--help").out
    assert out.startswith("usage: mm [OPTIONS] COMMAND [ARGS]...")
    listed = out.split("commands:", 1)[1]
    for words, command in app.walk():
        if len(words) == 1:
            assert (f"  {words[0]} " in listed) != command.hidden, words
    assert isinstance(app.commands["check"], Command)
    assert "Check memory blocks: schema, graph, contradictions, freshness," in listed


def test_a_closed_pipe_on_stdout_ends_mm_quietly_with_gits_code(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before mm writes (`mm list | head`, once head has had enough)
    try:
        done = subprocess.run([sys.executable, "-m", "mindmem", "--help"], stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, b"")
