"""The typer app, the options every command shares, and the one error handler."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mindmem import __version__
from mindmem.cli.root import LazyRoot, build
from mindmem.errors import BadParameter, MindmemError

if TYPE_CHECKING:
    from mindmem.store.memory import Memory

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
    cls=LazyRoot,
    context_settings={"help_option_names": ["-h", "--help"]},
)

state: dict[str, Any] = {"repo": None}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AtOpt = Annotated[
    Optional[str], typer.Option("--at", help="Read as of a revision (branch, tag, sha, HEAD~3) or a date (YYYY-MM-DD).")
]


def memory() -> Memory:
    """The Memory for this invocation (`-C`, `$MM_REPO` or the current folder)."""
    from mindmem.store.memory import Memory

    return Memory(state["repo"])


def print_json(data: Any) -> None:
    """Indented for a person at a terminal; one compact line for a pipe or file, as `gh` does: Python
    indents in pure Python, 4x slower, and a 5,000-block review or a 100k-block list is megabytes."""
    indent = 2 if sys.stdout.isatty() else None
    typer.echo(json.dumps(data, indent=indent, ensure_ascii=False))


def print_json_text(text: str) -> None:
    """`print_json` of data encoded already, compactly (a listing keeps each block's row encoded)."""
    if sys.stdout.isatty():
        print_json(json.loads(text))
    else:
        typer.echo(text)


# Library parameters whose flag is not simply `--name`.
FLAGS = {"title": "--set title=…", "type": "TYPE", "edges": "--set edges=…"}


def flag(param: str) -> str:
    """How the CLI spells a library parameter."""
    return FLAGS.get(param, "--" + param.replace("_", "-"))


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
    """Entry point: the one place errors become messages and exit codes.

    Library errors and usage errors both print one line `mm: error: …` on stderr; usage
    errors exit 2, Ctrl-C exits 130.
    """
    command = build(app)
    try:
        code = command.main(args=argv, prog_name="mm", standalone_mode=False)
    except MindmemError as exc:
        message = exc.naming(flag) if isinstance(exc, BadParameter) else str(exc)
        typer.echo(f"mm: error: {message}", err=True)
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:
        # typer's own (vendored) click exceptions: usage errors (exit 2) and file errors.
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            typer.echo(ctx.get_help(), err=True)
        else:
            where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            typer.echo(f"mm: error: {exc.format_message()}{where}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except typer.Abort:
        typer.echo("", err=True)
        sys.exit(130)
    if isinstance(code, int) and code:
        sys.exit(code)
