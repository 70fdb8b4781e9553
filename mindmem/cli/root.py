"""The root `mm` command, which builds a subcommand from its typer definition only when it is used.

typer builds every command up front (signatures, type hints, one converter per option): with
forty commands that is a third of `mm --help` and about 60 ms of every run. The root keeps a
builder per name instead; its command list shows each command's first help paragraph, the
text the built command would give (a test compares the two).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from difflib import get_close_matches
from typing import Any

import typer
from typer.core import TyperGroup


def first_paragraph(text: str | None) -> str:
    return inspect.cleandoc(text or "").split("\n\n", 1)[0].replace("\n", " ")


class LazyRoot(TyperGroup):
    """A group whose subcommands are built on first use (run, `--help`, or a typo's suggestions)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.builders: dict[str, Callable[[], Any]] = {}
        self.summaries: dict[str, str] = {}  # the commands `--help` lists (hidden ones are left out)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.builders) if self.builders else super().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.builders:
            self.commands[cmd_name] = self.builders[cmd_name]()
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:  # typer suggests only among commands already built
            matches = get_close_matches(args[0], list(self.summaries)) if args and self.builders else []
            if matches and "Did you mean" not in exc.message:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {', '.join(map(repr, matches))}?"
            raise

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        if not self.builders:  # built whole by typer (`typer.main.get_command`)
            super().format_commands(ctx, formatter)
            return
        with formatter.section("Commands"):
            formatter.write_dl(list(self.summaries.items()))


def build(app: typer.Typer) -> LazyRoot:
    """The click command for `app`: its callback and options now, each subcommand when first asked for."""
    root = typer.main.get_group(_with(app))
    assert isinstance(root, LazyRoot), "the app must be made with cls=LazyRoot"
    for info in app.registered_commands:
        name = info.name or typer.main.get_command_name(info.callback.__name__)
        root.builders[name] = lambda info=info, name=name: _built(_with(app, commands=[info]), name)
        if not info.hidden:
            root.summaries[name] = first_paragraph(info.help or inspect.getdoc(info.callback))
    for group in app.registered_groups:
        name = group.typer_instance.info.name
        root.builders[name] = lambda group=group, name=name: _built(_with(app, groups=[group]), name)
        root.summaries[name] = first_paragraph(group.typer_instance.info.help)
    return root


def _with(app: typer.Typer, *, commands: list[Any] | None = None, groups: list[Any] | None = None) -> typer.Typer:
    """`app` with only the given subcommands registered."""
    subset = copy.copy(app)
    subset.registered_commands = commands or []
    subset.registered_groups = groups or []
    return subset


def _built(subset: typer.Typer, name: str) -> Any:
    command = typer.main.get_group(subset).commands[name]
    full_help_lines(command)
    return command


def full_help_lines(command: Any) -> None:
    """Command lists show each command's whole first paragraph, not the first 45 characters and '...'."""
    for sub in getattr(command, "commands", {}).values():
        if sub.help and not sub.short_help:
            sub.short_help = first_paragraph(sub.help)
        full_help_lines(sub)
