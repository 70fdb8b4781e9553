"""The command tree: commands declared as typed functions, each parsed by argparse when it runs.

A command is a function whose parameters are `Annotated[T, Option(...)]` or
`Annotated[T, Argument(...)]`. The type says how the text converts: str, int, float or Path;
bool is a flag; `list[T]` is a repeatable option or a run of arguments; `Optional[T]` may be left
out. A group holds commands and groups by name. Only the command that runs (or whose help is
asked for) has its parser built; listing a group reads each command's first help paragraph.

Why not typer, which declared the commands before: importing it took 115 ms of every `mm`
process on this project's 2-core machine, more than the whole `mm --help` budget; argparse
takes 14 ms (docs/index.md, "Where this departs from the design notes").
"""

from __future__ import annotations

import functools
import os
import sys
import textwrap
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindmem.errors import BadInput

if TYPE_CHECKING:
    import argparse

HELP = ("-h", "--help")
# The default of a parameter that has none: it must be given.
REQUIRED = object()


class Option:
    """How a parameter is given: `--name VALUE` (flags from the parameter's name unless `decls` names them)."""

    def __init__(
        self,
        *decls: str,
        help: str = "",
        metavar: str | None = None,
        show_default: bool = True,
        min: int | None = None,
    ) -> None:
        self.decls, self.help, self.metavar, self.show_default, self.min = decls, help, metavar, show_default, min


class Argument(Option):
    """A positional parameter."""

    def __init__(self, *, help: str = "", metavar: str | None = None, show_default: bool = True) -> None:
        super().__init__(help=help, metavar=metavar, show_default=show_default)


class UsageError(BadInput):
    """The command line does not fit the command; the message points at the command's `--help`."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(f"{message} (see `{prog} --help`)")


def cleandoc(text: str | None) -> str:
    """A docstring without its indentation (`inspect.cleandoc`, whose module `mm --help` need not load)."""
    first, _, rest = (text or "").expandtabs().partition("\n")
    return (first.strip() + "\n" + textwrap.dedent(rest)).strip()


def first_paragraph(text: str | None) -> str:
    """A command's summary: the first paragraph of its help, on one line."""
    return cleandoc(text).split("\n\n", 1)[0].replace("\n", " ")


def described(text: str, width: int) -> str:
    """Help text for a terminal `width` wide: paragraphs rewrapped, except the ones opened by a line
    holding only `\\b` (examples, lists), which are kept line for line."""
    out = []
    for paragraph in cleandoc(text).split("\n\n"):
        if paragraph.startswith("\b\n"):
            out.append(paragraph[2:])
        else:
            out.append(textwrap.fill(" ".join(paragraph.split()), width))
    return "\n\n".join(out)


def _width() -> int:
    """The terminal's width ($COLUMNS first, as argparse does), capped so help stays readable."""
    try:
        columns = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (ValueError, OSError, AttributeError):
        columns = 80
    return max(40, min(columns, 100) - 2)


class Command:
    """One command: `function` called with its parameters parsed from the command line.

    `passthrough`: the last argument takes everything after the others, options included."""

    def __init__(self, name: str, function: Callable[..., Any], hidden: bool, passthrough: bool) -> None:
        self.name, self.function, self.hidden, self.passthrough = name, function, hidden, passthrough

    @property
    def summary(self) -> str:
        return first_paragraph(self.function.__doc__)

    @functools.cached_property
    def parameters(self) -> tuple[tuple[str, Any, Option, Any], ...]:
        return tuple(_parameters(self.function))

    def run(self, args: list[str], prog: str) -> Any:
        parser = self.parser(prog)
        # Intermixed: options may come between arguments (`mm check a.md --json b.md`), as click allowed.
        values = vars(parser.parse_args(args) if self.passthrough else parser.parse_intermixed_args(args))
        for name, _, meta, _ in self.parameters:
            if meta.min is not None and values[name] is not None and values[name] < meta.min:
                raise UsageError(f"{'/'.join(_flags(name, meta))}: {values[name]} is less than {meta.min}", prog)
        return self.function(**values)

    def parser(self, prog: str) -> argparse.ArgumentParser:
        import argparse

        parser = argparse.ArgumentParser(
            prog=prog,
            description=described(self.function.__doc__ or "", _width()),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            allow_abbrev=False,
            add_help=False,
        )
        parser.error = functools.partial(_refuse, prog)  # type: ignore[method-assign]  (argparse's one way out)
        parser.add_argument(*HELP, action="help", help="Show this help and exit.")
        for name, kind, meta, default in self.parameters:
            _add(parser, name, kind, meta, default, self.passthrough)
        return parser


class Group:
    """Commands and groups by name (`mm graph expand`: the group `graph`, its command `expand`).

    `options` are only shown in the help: the caller takes them off the command line (the root's
    `-C` and `--version`)."""

    def __init__(self, name: str = "", help: str = "", options: tuple[tuple[str, str], ...] = ()) -> None:
        self.name, self.help, self.options = name, help, options
        self.commands: dict[str, Command | Group] = {}

    @property
    def summary(self) -> str:
        return first_paragraph(self.help)

    def command(
        self, name: str | None = None, *, hidden: bool = False, passthrough: bool = False
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated function as a command (named after it unless `name` is given)."""

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            found = name or function.__name__.strip("_").replace("_", "-")
            self.commands[found] = Command(found, function, hidden, passthrough)
            return function

        return register

    def add_group(self, group: Group) -> None:
        self.commands[group.name] = group

    def find(self, name: str, prog: str) -> Command | Group:
        found = self.commands.get(name)
        if found is None:
            from difflib import get_close_matches

            close = get_close_matches(name, [n for n, c in self.commands.items() if not _hidden(c)])
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UsageError(f"No such command '{name}'.{hint}", prog)
        return found

    def run(self, args: list[str], prog: str) -> Any:
        """Run the command `args` name (`mm graph expand ID`: this group is `graph`, args `expand ID`)."""
        if not args or args[0] in HELP:
            print(self.help_text(prog), file=sys.stdout if args else sys.stderr)
            return 0 if args else 2
        name, rest = args[0], args[1:]
        if name.startswith("-"):
            raise UsageError(f"No such option: {name}", prog)
        return self.find(name, prog).run(rest, f"{prog} {name}")

    def help_text(self, prog: str) -> str:
        width = _width()
        listed = [(name, c.summary) for name, c in self.commands.items() if not _hidden(c)]
        parts = [f"usage: {prog}{' [OPTIONS]' if self.options else ''} COMMAND [ARGS]...", described(self.help, width)]
        parts.append("options:\n" + _rows([*self.options, (", ".join(HELP), "Show this help and exit.")], width))
        parts.append("commands:\n" + _rows(listed, width))
        return "\n\n".join(p for p in parts if p)

    def walk(self, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Command]]:
        """Every command below this group, by its words (`("graph", "expand")`), hidden ones included."""
        for name, found in self.commands.items():
            if isinstance(found, Group):
                yield from found.walk((*path, name))
            else:
                yield (*path, name), found


def _hidden(found: Command | Group) -> bool:
    return isinstance(found, Command) and found.hidden


def _rows(rows: list[tuple[str, str]], width: int) -> str:
    """Two columns, the second wrapped under itself (argparse's own layout for options)."""
    left = min(max((len(name) for name, _ in rows), default=0), 24) + 4
    out = []
    for name, text in rows:
        lines = textwrap.wrap(text, max(20, width - left)) or [""]
        if len(name) + 4 > left:
            out.append(f"  {name}")
            out.extend(" " * left + line for line in lines)
        else:
            out.append(f"  {name:<{left - 2}}{lines[0]}")
            out.extend(" " * left + line for line in lines[1:])
    return "\n".join(out)


def _refuse(prog: str, message: str) -> typing.NoReturn:
    raise UsageError(message[0].upper() + message[1:], prog)


# -- parameters ------------------------------------------------------------------------------


def _parameters(function: Callable[..., Any]) -> Iterator[tuple[str, Any, Option, Any]]:
    """(name, type, Option or Argument, default) per parameter; the default is `REQUIRED` for a
    required one."""
    import inspect

    hints = typing.get_type_hints(function, include_extras=True)
    for name, param in inspect.signature(function).parameters.items():
        kind, meta = typing.get_args(hints[name])[:2] if hasattr(hints[name], "__metadata__") else (hints[name], None)
        if not isinstance(meta, Option):
            raise TypeError(f"{function.__name__}({name}): annotate it with Option(...) or Argument(...)")
        yield name, kind, meta, REQUIRED if param.default is param.empty else param.default


def _flags(name: str, meta: Option) -> tuple[str, ...]:
    return meta.decls or ("--" + name.strip("_").replace("_", "-"),)


def _shape(kind: Any) -> tuple[Any, bool]:
    """(the type of one value, whether there are many) of `Optional[list[T]]`, `list[T]`, `T`."""
    if typing.get_origin(kind) is typing.Union:
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    if typing.get_origin(kind) is list:
        return typing.get_args(kind)[0], True
    return kind, False


_CONVERT: dict[Any, Callable[[str], Any]] = {str: str, int: int, float: float, Path: Path}
_TYPE_NAMES = {str: "TEXT", int: "INTEGER", float: "FLOAT", Path: "PATH"}


def _add(parser: argparse.ArgumentParser, name: str, kind: Any, meta: Option, default: Any, passthrough: bool) -> None:
    import argparse

    one, many = _shape(kind)
    required = default is REQUIRED
    text = meta.help
    if meta.show_default and not required and default not in (None, False, [], ()):
        text += f" [default: {default}]"
    if isinstance(meta, Argument):
        nargs = (argparse.REMAINDER if passthrough else "+" if required else "*") if many else None if required else "?"
        parser.add_argument(
            name,
            metavar=meta.metavar or name.upper(),
            nargs=nargs,
            type=_CONVERT[one],
            default=None if required else default,
            help=text,
        )
        return
    flags = _flags(name, meta)
    if one is bool:
        parser.add_argument(*flags, dest=name, action="store_true", help=text)
        return
    parser.add_argument(
        *flags,
        dest=name,
        action="append" if many else "store",
        type=_CONVERT[one],
        metavar=meta.metavar or _TYPE_NAMES[one],
        required=required,
        default=None if required else default,
        help=text,
    )
