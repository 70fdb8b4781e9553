"""`mm import`: bring memory over from other tools, as one proposal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

from mindmem.cli.app import JsonOpt, app, echo, memory, print_json
from mindmem.cli.commands import Argument, Group, Option
from mindmem.cli.progress import Step, progress

import_app = Group(
    name="import",
    help="Import memory from other tools. Each import is one proposal; re-importing proposes nothing new.",
)
app.add_group(import_app)

RationaleOpt = Annotated[
    Optional[str], Option("--rationale", "-r", help="Why this memory belongs here (for the proposal).")
]
DryRunOpt = Annotated[bool, Option("--dry-run", help="Only list what would be imported.")]


@import_app.command("mind-mem")
def mind_mem(
    path: Annotated[Path, Argument(help="The mind-mem workspace folder.")],
    rationale: RationaleOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a mind-mem workspace: [ID] blocks with Key: value lines (decisions, tasks, signals, entities).

    IDs are re-drawn in mindmem's format and the original ID is kept in `imported_from`;
    statuses, Supersedes, References, Sources and Dependencies are mapped to mindmem's.

    \b
    Example:
      mm import mind-mem examples/mind-mem-workspace --dry-run
      mm import mind-mem ~/old-workspace -r "Move our decision log into the repo"
    """
    from mindmem.imports.mind_mem import read_workspace

    with progress("import") as step:
        step("reading the workspace")
        _run(read_workspace(path), path, rationale, dry_run, as_json, "mind-mem", step)


@import_app.command("markdown")
def markdown(
    path: Annotated[Path, Argument(help="Folder of Markdown notes (basic-memory, Obsidian …).")],
    rationale: RationaleOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a folder of Markdown notes with frontmatter and [[wiki links]].

    Notes become `note` blocks unless their frontmatter `type` is a mindmem type;
    links between imported notes become relates_to edges; tags come from the
    frontmatter and #hashtags.

    \b
    Example:
      mm import markdown ~/vault/projects --dry-run
      mm import markdown ~/vault/projects -r "Project notes from the team vault"
    """
    from mindmem.imports.markdown import read_folder

    with progress("import") as step:
        step("reading the notes")
        _run(read_folder(path), path, rationale, dry_run, as_json, "markdown", step)


def _run(
    items: list[Any], path: Path, rationale: str | None, dry_run: bool, as_json: bool, kind: str, step: Step
) -> None:
    from mindmem.governance.trailers import check_rationale
    from mindmem.imports import plan, propose

    if not dry_run:
        check_rationale(rationale)
    mem = memory()
    step(f"validating {len(items)} block(s)")
    found = plan(mem, items)
    proposal = None
    if not dry_run:
        step(f"proposing {len(found.blocks)} block(s)")
        title = f"Import {len(found.blocks)} blocks from {kind} ({path.name})"
        proposal = propose(mem, found, rationale=rationale or "", title=title)
    if as_json:
        print_json({**found.to_json(), "proposal": proposal.id if proposal else None})
        return
    for block in found.blocks:  # with a proposal, stdout is just its ID (for scripts), as for `mm propose`
        echo(f"{block.id:<22} {block.type:<9} {block.status:<10} {block.title}", err=proposal is not None)
    echo(f"{len(found.blocks)} new, {found.skipped} already in memory", err=True)
    if proposal:
        echo(proposal.id)
