"""Bodies that still hold a block template's placeholder text ("What forced a choice.").

`mm new` starts a block from its type's template; a body that still says what the
template says was never written. The placeholder sentences come from the templates
shipped with mindmem (the ones `mm init` copies into `.mindmem/templates/`).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources

from mindmem.checks.context import CheckContext
from mindmem.checks.findings import Finding
from mindmem.store.blocks import Block


@cache
def templates() -> dict[str, str]:
    """Block type -> the shipped template body."""
    folder = resources.files("mindmem").joinpath("templates", "blocks")
    return {
        entry.name.removesuffix(".md"): entry.read_text("utf-8").strip()
        for entry in folder.iterdir()
        if entry.name.endswith(".md")
    }


@cache
def placeholder_lines() -> frozenset[str]:
    """Every template line that is text, not a heading: the sentences a writer is meant to replace."""
    return frozenset(
        line.strip()
        for body in templates().values()
        for line in body.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def leftover(block: Block) -> str | None:
    """The first placeholder still in the body, or the whole template when the body is only that."""
    body = block.body.strip()
    for line in body.splitlines():
        if line.strip() in placeholder_lines():
            return line.strip()
    if body and body == templates().get(block.type):
        return body.splitlines()[0]
    return None


def check(ctx: CheckContext) -> Iterator[Finding]:
    for block in ctx.focus:
        found = leftover(block)
        if found is not None:
            yield Finding(
                "MM-S006",
                "warning",
                f"{block.id} still has its template's placeholder text: {found!r}",
                (block.id,),
                ctx.path_of(block.id),
                ctx.line_of(block.id, found, start=False),
                fix="write what the block is about in place of the template text (or give the body with -b)",
            )
