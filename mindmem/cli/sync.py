"""`mm sync`: exchange the governed branch, proposals and rejections with a git remote."""

from __future__ import annotations

from typing import Annotated, Optional

from mindmem.cli.app import JsonOpt, app, echo, memory, print_json
from mindmem.cli.commands import Argument, Option


@app.command()
def sync(
    remote: Annotated[
        Optional[str],
        Argument(metavar="REMOTE", help="Git remote (default: the governed branch's upstream, else origin)."),
    ] = None,
    keep_worktree: Annotated[
        bool,
        Option("--keep-worktree", help="Fast-forward even when the work tree has changes to those files."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Share memory with a remote: the governed branch, proposals/* and rejected/*.

    Fetches, then fast-forwards the governed branch (refreshing clean files when
    the work tree is on it) or pushes it when it is ahead. Never forces: when
    both sides have new commits it refuses, changes nothing and says how to redo
    this side's approvals on top of the remote. Proposals new on either side
    travel; proposals approved or rejected on either side are pruned on both;
    rejected/* travels both ways; a proposal that differs here and there is
    kept on both sides and reported.

    \b
    Example:
      mm sync
      mm sync origin --json
    """
    from mindmem.governance.sync import sync as run_sync

    report = run_sync(memory(), remote, keep_worktree=keep_worktree)
    if as_json:
        print_json(report.to_json())
        return
    g = report.governed
    where = f"{report.remote}/{report.branch}"
    if g.action == "fast-forwarded":
        echo(f"{report.branch}: fast-forwarded {g.old[:12]}..{g.new[:12]} from {where}")
    elif g.action == "pushed":
        echo(f"{report.branch}: pushed {g.new[:12]} to {where}" + (f" (was {g.old[:12]})" if g.old else ""))
    elif g.action == "fetched":
        echo(f"{report.branch}: created at {g.new[:12]} from {where}")
    if g.refreshed:
        echo(f"  refreshed {len(g.refreshed)} file(s) in the work tree")
    if g.note:
        echo(f"note: {g.note}", err=True)
    for label, refs in (
        ("fetched", report.fetched),
        ("pushed", report.pushed),
        ("pruned here (decided)", report.pruned_here),
        (f"pruned on {report.remote} (decided)", report.pruned_remote),
    ):
        for ref in refs:
            echo(f"{label}: {ref}")
    for kept in report.kept:
        echo(f"kept: {kept.branch}: {kept.reason}", err=True)
    if not report.moved:
        echo(f"up to date with {report.remote}")
