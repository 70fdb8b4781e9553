"""Freshness family (MM-F): expired blocks, overdue tasks and code citations that no longer hold.

A citation `path@sha#Lx-Ly` is stale when a change between `sha` and the checked
revision touches those lines, or the file is gone. Lines that only moved (code
inserted above them) are reported as info with the new range.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from mindmem.checks.context import CheckContext
from mindmem.checks.findings import Finding
from mindmem.store.blocks import Block, Citation

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo

OPEN_TASK = ("todo", "doing", "blocked")


@dataclass(frozen=True)
class CitationState:
    """What became of one cited range: `stale` (why), moved (new start/end), or unchanged."""

    code: str | None
    severity: str = "info"
    message: str = ""
    fix: str | None = None


def check(ctx: CheckContext) -> Iterator[Finding]:
    states: dict[str, CitationState] = {}  # one look at each citation, however many blocks share it
    code = _Code(ctx.repo, ctx.code_rev) if ctx.repo is not None and ctx.code_rev is not None else None
    for block in ctx.focus:
        yield from _dates(ctx, block)
        # A superseded or revoked block is history: its citations are allowed to age.
        if code is None or block.status in ("superseded", "revoked"):
            continue
        for raw, citation in zip(block.citations, block.parsed_citations(), strict=True):
            if raw not in states:
                states[raw] = citation_state(code, citation)
            state = states[raw]
            if state.code is not None:
                yield Finding(
                    state.code,
                    state.severity,
                    f"{block.id} cites {raw}: {state.message}",
                    (block.id,),
                    ctx.path_of(block.id),
                    ctx.line_of(block.id, raw, start=False),
                    fix=state.fix,
                )


def _dates(ctx: CheckContext, block: Block) -> Iterator[Finding]:
    live = block.status == "active" or block.status in OPEN_TASK
    if live and block.expires and date.fromisoformat(block.expires) < ctx.today:
        yield Finding(
            "MM-F001",
            "warning",
            f"{block.id} expired on {block.expires} but is still {block.status}",
            (block.id,),
            ctx.path_of(block.id),
            ctx.line_of(block.id, "expires:"),
            fix="re-check it and move `expires` forward, or supersede or revoke it",
        )
    if block.status in OPEN_TASK and block.due and date.fromisoformat(block.due) < ctx.today:
        yield Finding(
            "MM-F005",
            "info",
            f"task {block.id} was due {block.due} and is still {block.status}",
            (block.id,),
            ctx.path_of(block.id),
            ctx.line_of(block.id, "due:"),
            fix="finish or cancel it, or move `due`",
        )


class _Code:
    """The code a run's citations point into, each commit resolved and each file read once: many
    citations share a commit and a file (an import of 5,000 blocks cites a few hundred)."""

    def __init__(self, repo: GitRepo, head: str) -> None:
        self.repo, self.head = repo, head
        self._commits: dict[str, str | None] = {}
        self._files: dict[tuple[str, str], bytes | None] = {}

    def resolve(self, sha: str) -> str | None:
        if sha not in self._commits:
            self._commits[sha] = self.repo.find_commit(sha)
        return self._commits[sha]

    def read(self, commit: str, path: str) -> bytes | None:
        if (commit, path) not in self._files:
            self._files[commit, path] = self.repo.read_file(commit, path)
        return self._files[commit, path]


def citation_state(code: _Code, citation: Citation) -> CitationState:
    head = code.head
    cited = code.resolve(citation.sha)
    if cited is None:
        return CitationState(
            "MM-F003",
            "info",
            f"commit {citation.sha} is not in this repository, so the citation cannot be checked here",
            "check it in the code repository it points into",
        )
    old = code.read(cited, citation.path)
    if old is None:
        return CitationState(
            "MM-F002",
            "warning",
            f"{citation.path} does not exist at {citation.sha}",
            "correct the path or the commit",
        )
    new = code.read(head, citation.path)
    if new is None:
        return CitationState(
            "MM-F002",
            "warning",
            f"{citation.path} no longer exists at {head[:12]}",
            "find where the code went and cite it again, or drop the citation",
        )
    old_lines = old.decode("utf-8", "replace").splitlines()
    here = f"{citation.path}@{head[:12]}"
    if citation.start is not None:
        # A range outside the file is wrong whether or not the file changed since.
        start, end = citation.start, citation.end or citation.start
        if end > len(old_lines) or start > end or start < 1:
            return CitationState(
                "MM-F002",
                "warning",
                f"lines {start}-{end} are not in {citation.path} at {citation.sha} ({len(old_lines)} lines)",
                "correct the line range",
            )
    if old == new:
        return CitationState(None)
    if citation.start is None:
        return CitationState("MM-F004", "info", "the file changed since then", f"re-read it and cite {here}")
    return _range_state(citation, old_lines, new.decode("utf-8", "replace").splitlines(), here)


def _range_state(citation: Citation, old_lines: list[str], new_lines: list[str], here: str) -> CitationState:
    """A cited line range in a file that changed: changed itself, moved, or untouched."""
    start = citation.start or 1
    end = citation.end or start
    opcodes = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes()
    for tag, i1, i2, _j1, _j2 in opcodes:
        touched = (tag != "insert" and i1 < end and i2 > start - 1) or (tag == "insert" and start - 1 < i1 < end)
        if tag != "equal" and touched:
            return CitationState(
                "MM-F002",
                "warning",
                f"lines {start}-{end} changed since {citation.sha}",
                f"re-read the code and update the block, then cite {here}#L…",
            )
    for tag, i1, i2, j1, _j2 in opcodes:
        if tag == "equal" and i1 <= start - 1 < i2:
            new_start = j1 + (start - 1 - i1) + 1
            if new_start != start:
                moved = f"{here}#L{new_start}-L{new_start + end - start}"
                return CitationState("MM-F004", "info", f"the cited lines moved to {moved}", f"cite {moved}")
    return CitationState(None)
