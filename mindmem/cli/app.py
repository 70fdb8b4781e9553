"""The typer app, the options every command shares, and the one error handler."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mindmem import __version__
from mindmem.errors import MindmemError

if TYPE_CHECKING:
    from mindmem.memory import Memory

app = typer.Typer(
    name="mm",
    help=(
        "mindmem: git-native memory for coding agents and their people.\n\n"
        "Memory is Markdown blocks in a git repository. Run `mm COMMAND --help` for examples."
    ),
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

state: dict[str, Any] = {"repo": None}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AtOpt = Annotated[
    Optional[str], typer.Option("--at", help="Read as of a revision (branch, tag, sha, HEAD~3) or a date (YYYY-MM-DD).")
]


def memory() -> Memory:
    """The Memory for this invocation (`-C`, `$MM_REPO` or the current folder)."""
    from mindmem.memory import Memory

    return Memory(state["repo"])


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mm {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    repo: Annotated[
        Optional[Path],
        typer.Option("-C", help="Run as if mm was started in this folder (also $MM_REPO).", show_default=False),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    state["repo"] = repo


def main(argv: list[str] | None = None) -> None:
    """Entry point: the one place library errors become messages and exit codes.

    Usage errors (exit 2) and Ctrl-C (exit 130) are handled by typer itself.
    """
    try:
        app(args=argv, prog_name="mm")
    except MindmemError as exc:
        typer.echo(f"mm: error: {exc}", err=True)
        sys.exit(exc.exit_code)
