"""The lazy root command: `mm` builds a subcommand only when it is used, and nobody can tell."""

from __future__ import annotations

import typer

from mindmem.cli import app
from mindmem.cli.root import build, full_help_lines


def _help(command, path):
    ctx = typer.Context(command, info_name="mm")
    for name in path:
        command = command.get_command(ctx, name)
        ctx = typer.Context(command, info_name=name, parent=ctx)
    return command.get_help(ctx)


def _paths(command, prefix=()):
    ctx = typer.Context(command, info_name="mm")
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        yield (*prefix, name)
        if hasattr(sub, "list_commands"):
            yield from _paths(sub, (*prefix, name))


def test_lazy_root_gives_the_help_typer_would_give_for_every_command():
    eager = typer.main.get_command(app)  # every command built up front, as typer does
    full_help_lines(eager)
    lazy = build(app)
    assert _help(lazy, ()) == _help(eager, ())
    paths = list(_paths(eager))
    assert len(paths) > 40 and ("graph", "impact") in paths
    for path in paths:
        assert _help(lazy, path) == _help(eager, path), path


def test_only_the_command_that_runs_is_built():
    lazy = build(app)
    ctx = typer.Context(lazy, info_name="mm")
    assert lazy.commands == {} and "review" in lazy.list_commands(ctx)
    assert lazy.get_command(ctx, "review").name == "review"
    assert list(lazy.commands) == ["review"]
    assert lazy.get_command(ctx, "no-such-command") is None


def test_a_typo_gets_the_same_suggestion_as_before(tmp_path, mm):
    result = mm("revew", cwd=tmp_path)
    assert result.code == 2
    assert "No such command 'revew'. Did you mean 'review'?" in result.err
