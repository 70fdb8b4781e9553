"""The root command group, the options every command shares, and the one error handler."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

from mindmem import __version__
from mindmem.cli.commands import Group, Option, UsageError
from mindmem.errors import BadParameter, MindmemError

if TYPE_CHECKING:
    from mindmem.store.memory import Memory

app = Group(
    name="mm",
    help=(
        "mindmem: git-native memory for coding agents and their people.\n\n"
        "Memory is Markdown blocks in a git repository. Run `mm COMMAND --help` for examples."
    ),
    options=(
        ("-C DIR", "Run as if mm was started in this folder (also $MM_REPO)."),
        ("--version", "Print the version and exit."),
    ),
)

state: dict[str, Any] = {"repo": None}

JsonOpt = Annotated[bool, Option("--json", help="Print JSON for scripts.")]
AtOpt = Annotated[
    Optional[str], Option("--at", help="Read as of a revision (branch, tag, sha, HEAD~3) or a date (YYYY-MM-DD).")
]


def memory() -> Memory:
    """The Memory for this invocation (`-C`, `$MM_REPO` or the current folder)."""
    from mindmem.store.memory import Memory

    return Memory(state["repo"])


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print on stdout (stderr with `err`), flushed, so progress and results interleave as they happen."""
    stream = sys.stderr if err else sys.stdout
    stream.write(message + "\n" if nl else message)
    stream.flush()


def print_json(data: Any) -> None:
    """Indented for a person at a terminal; one compact line for a pipe or file, as `gh` does: Python
    indents in pure Python, 4x slower, and a 5,000-block review or a 100k-block list is megabytes."""
    import json

    indent = 2 if sys.stdout.isatty() else None
    echo(json.dumps(data, indent=indent, ensure_ascii=False))


def print_json_text(text: str) -> None:
    """`print_json` of data encoded already, compactly (a listing keeps each block's row encoded)."""
    if sys.stdout.isatty():
        import json

        print_json(json.loads(text))
    else:
        echo(text)


# Library parameters whose flag is not simply `--name`.
FLAGS = {"title": "--set title=…", "type": "TYPE", "edges": "--set edges=…"}


def flag(param: str) -> str:
    """How the CLI spells a library parameter."""
    return FLAGS.get(param, "--" + param.replace("_", "-"))


def _root_options(args: list[str]) -> list[str]:
    """Take the root options (`-C DIR`, `--version`) off the front; what is left names the command."""
    while args:
        head = args[0]
        if head == "--version":
            echo(f"mm {__version__}")
            raise SystemExit(0)
        if head == "-C":
            if len(args) < 2:
                raise UsageError("Option '-C' requires an argument.", "mm")
            state["repo"], args = Path(args[1]), args[2:]
        elif head.startswith("-C"):
            state["repo"], args = Path(head[2:].removeprefix("=")), args[1:]
        else:
            break
    return args


def main(argv: list[str] | None = None) -> None:
    """Entry point: the one place errors become messages and exit codes.

    Library errors and usage errors both print one line `mm: error: …` on stderr; usage
    errors exit 2, Ctrl-C exits 130, a closed pipe on stdout 141 (128 + SIGPIPE, as git).
    """
    state["repo"] = None
    try:
        code = app.run(_root_options(list(sys.argv[1:] if argv is None else argv)), "mm")
    except MindmemError as exc:
        message = exc.naming(flag) if isinstance(exc, BadParameter) else str(exc)
        echo(f"mm: error: {message}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        echo("", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # `mm list | head`: the reader went away. Quiet, with git's exit code; stdout now goes nowhere,
        # so that Python's flush at exit cannot fail again.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    if isinstance(code, int) and code:
        sys.exit(code)
