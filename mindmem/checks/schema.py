"""Schema family (MM-S): files that do not parse or validate, duplicate IDs, misplaced and stray files.

Field rules live in `blocks.from_mapping` (the one validating constructor); this
family turns its errors into findings and adds what only a whole snapshot shows.
"""

from __future__ import annotations

from collections.abc import Iterator

from mindmem.checks import placeholders
from mindmem.checks.context import CheckContext
from mindmem.checks.findings import Finding
from mindmem.errors import DuplicateId
from mindmem.store.blocks import block_relpath


def check(ctx: CheckContext) -> Iterator[Finding]:
    yield from placeholders.check(ctx)
    yield from _unreadable(ctx)
    yield from _misplaced(ctx)
    yield from _stray(ctx)


def _unreadable(ctx: CheckContext) -> Iterator[Finding]:
    """Files that do not parse or validate, and IDs that two files claim."""
    for problem in ctx.problems:
        if not ctx.path_in_scope(problem.path):
            continue
        if isinstance(problem, DuplicateId):
            yield Finding(
                "MM-S002",
                "critical",
                problem.reason,
                (problem.block_id,),
                problem.path,
                problem.line,
                fix="give one of the files a new ID (`mm new` draws one) or delete the copy",
            )
        else:
            yield Finding(
                "MM-S001",
                "critical",
                problem.reason,
                (),
                problem.path,
                problem.line,
                fix="correct the field named above; `mm validate` lists every problem, `mm fmt` rewrites valid blocks",
            )


def _misplaced(ctx: CheckContext) -> Iterator[Finding]:
    """Blocks away from their canonical path, and validity that ends before it starts."""
    for block in ctx.focus:
        path = ctx.path_of(block.id)
        expected = f"{ctx.root}/{block_relpath(block)}"
        if path != expected:
            yield Finding(
                "MM-S003",
                "warning",
                f"block {block.id} is at {path}; blocks live at ROOT/TYPE_DIR/ID.md",
                (block.id,),
                path,
                fix=f"git mv {path} {expected}",
            )
        if block.valid_from and block.valid_to and block.valid_to < block.valid_from:
            yield Finding(
                "MM-S004",
                "warning",
                f"{block.id} is valid to {block.valid_to}, before it is valid from {block.valid_from}",
                (block.id,),
                path,
                ctx.line_of(block.id, "valid_to:"),
                fix="swap or correct valid_from / valid_to",
            )


def _stray(ctx: CheckContext) -> Iterator[Finding]:
    """Files under the memory root that are not blocks: mm ignores them, and says so once."""
    for path in ctx.stray:
        if ctx.path_in_scope(path) and path.endswith(".md"):
            yield Finding(
                "MM-S005",
                "info",
                "a Markdown note, not a block (block files are named ID.md); mm ignores it",
                (),
                path,
                fix="leave it (notes may live beside blocks), or make it a block with `mm import markdown`",
            )
        elif ctx.path_in_scope(path):
            yield Finding(
                "MM-S005",
                "info",
                "not a block file (blocks are .md files); mm ignores it",
                (),
                path,
                fix="move it out of the memory root, or rename it to .md if it is a block",
            )
