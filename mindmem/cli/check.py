"""Check commands: mm check and mm review."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

from mindmem.cli.app import JsonOpt, app, echo, memory, print_json, state
from mindmem.cli.commands import Argument, Option
from mindmem.cli.progress import progress
from mindmem.errors import BadInput, CheckFailed

if TYPE_CHECKING:
    from mindmem.checks import CheckContext, Finding


@app.command()
def check(
    targets: Annotated[
        Optional[list[str]],
        Argument(
            metavar="A..B | FILE",
            help="A..B: the blocks changed from A to B, against B. FILE...: those blocks in the work tree.",
            show_default=False,
        ),
    ] = None,
    staged: Annotated[bool, Option("--staged", help="Check the staged blocks (the next commit).")] = False,
    proposal: Annotated[
        Optional[str], Option("--proposal", metavar="P", help="Check proposal P as approve would.")
    ] = None,
    all_: Annotated[
        bool, Option("--all", help="Check every block, not only the changed ones (with --staged, -p, A..B).")
    ] = False,
    severity: Annotated[
        str, Option("--severity", metavar="LEVEL", help="Show findings at this level or above.")
    ] = "info",
    fix: Annotated[
        bool,
        Option("--fix", help="Apply the suggested edits to the work tree or the proposal."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check memory blocks: schema, graph, contradictions, freshness, safety.

    Default: every block in the work tree. --staged (the index; GIT_INDEX_FILE
    inside a git hook), --proposal, A..B and FILE... check the changed (or named)
    blocks against the blocks they meet (neighbours, shared subject, axis or
    entity). Files outside the memory root are ignored, so the pre-commit
    framework can pass whatever it has. Exit 1 while a critical finding remains.

    --fix writes the machine-applicable fixes (e.g. `supersedes` on the newer of
    two contradicting blocks) into the work tree files (also with --staged: stage
    them again) or into the proposal's commit; never onto the governed branch.

    \b
    Example:
      mm check                      # the work tree
      mm check --staged             # what the pre-commit hook runs
      mm check memory/decisions/D-20261125-7f3a9c.md
      mm check --proposal P-20261125-ab12cd --fix
      mm check main..feature --json
      mm check --severity critical
    """
    mem = memory()
    index_file, started = _staged_diff(mem, staged and not targets)
    from mindmem.checks import context_for, run_checks
    from mindmem.checks.findings import SEVERITIES, sort_key

    if severity not in SEVERITIES:
        raise BadInput(f"--severity '{severity}' is not one of {', '.join(SEVERITIES)}")
    rev_range, paths = _split_targets(mem, targets or [])
    if fix and rev_range:
        raise BadInput("--fix writes the work tree or a proposal; a range A..B cannot be rewritten")
    with progress("check") as step:
        step("reading the blocks")
        merge, own = _proposal_checks(mem, proposal)
        what = {"proposal": merge, "rev_range": rev_range, "full": all_, "paths": paths}
        ctx = context_for(mem, staged=staged, index_file=index_file, started=started, **what)
        step(f"checking {len(ctx.focus)} block(s)")
        findings = sorted(run_checks(ctx) + own, key=sort_key)
    fixed = None
    if fix:
        fixed = _apply_fixes(mem, ctx, findings, proposal)
        if fixed.paths:
            # With --staged the fixes are in the work tree: check the index as it will be once they are added.
            also = {p: (mem.workdir / p).read_bytes() for p in fixed.paths} if staged else None
            merge, own = _proposal_checks(mem, proposal)
            ctx = context_for(
                mem, staged=staged, proposal=merge, full=all_, index_file=index_file, also_staged=also, paths=paths
            )
            findings = sorted(run_checks(ctx) + own, key=sort_key)
    report(ctx, findings, severity, as_json, fixed)


def _staged_diff(mem, staged: bool):
    """(the index file being committed, the staged diff started) for --staged; (None, None) otherwise.
    Under a git hook (the pre-commit framework runs us there) GIT_INDEX_FILE names the index being
    committed; git reads it (10 MB at 100,000 files) while the checks load."""
    if not staged:
        return None, None
    index_file = Path(os.environ["GIT_INDEX_FILE"]).absolute() if os.environ.get("GIT_INDEX_FILE") else None
    return index_file, mem.git.start_staged_changes(mem.root, index_file)


def _proposal_checks(mem, proposal: str | None):
    """The merge to check and the findings on proposal P as a whole; (None, []) without one. Governance
    is imported only then: the pre-commit hook (`--staged`) runs on every commit."""
    if proposal is None:
        return None, []
    from mindmem.governance.approving import checks_for

    return checks_for(mem, proposal)


def _split_targets(mem, targets: list[str]) -> tuple[str | None, list[str] | None]:
    """(range, None) for one `A..B` that is not a file; else (None, repo-relative paths of the files)."""
    if not targets:
        return None, None
    if len(targets) == 1 and ".." in targets[0] and not (Path(state["repo"] or ".") / targets[0]).exists():
        return targets[0], None
    top = mem.workdir.resolve()
    here = Path(state["repo"] or ".")  # like `git -C`, file names are taken from the -C folder
    paths = []
    for name in targets:
        try:
            # realpath also works for a deleted file (its folder is resolved), which pre-commit never passes.
            paths.append(Path(os.path.realpath(here / name)).relative_to(top).as_posix())
        except ValueError:
            raise BadInput(f"{name} is outside the repository {top}") from None
    return None, paths


def _apply_fixes(mem, ctx: CheckContext, findings: list[Finding], proposal: str | None):
    from mindmem.checks.fix import fix_worktree
    from mindmem.governance.fix import fix_proposal

    paths = dict(ctx.snapshot.paths)
    return fix_proposal(mem, proposal, findings, paths) if proposal else fix_worktree(mem, findings, paths)


def report(ctx: CheckContext, findings: list[Finding], severity: str, as_json: bool, fixed=None) -> None:
    """Print findings (text or JSON) and fail with exit 1 while a critical one remains."""
    from mindmem.checks.report import text_lines, to_json

    if as_json:
        data = to_json(ctx, findings, severity)
        if fixed is not None:
            data["fixed"] = {"paths": list(fixed.paths), "commit": fixed.commit, "skipped": list(fixed.skipped)}
        print_json(data)
    else:
        if fixed is not None:
            for path in fixed.paths:
                echo(f"fixed {path}")
            if fixed.commit:
                echo(f"wrote the fixes into the proposal as {fixed.commit[:12]}")
            elif fixed.paths and ctx.label == "staged changes":
                echo("the fixes are in the work tree; `git add` them to stage them")
            for note in fixed.skipped:
                echo(f"not fixed: {note}")
        for line in text_lines(ctx, findings, severity):
            echo(line)
    critical = sum(1 for f in findings if f.severity == "critical")
    if critical:
        raise CheckFailed(f"{critical} critical finding(s) in {ctx.label}")


@app.command()
def review(
    target: Annotated[str, Argument(metavar="P|A..B", help="A proposal ID, or a revision range A..B.")],
    fmt: Annotated[str, Option("--format", metavar="FORMAT", help="text, markdown (a PR comment) or json.")] = "text",
    max_chars: Annotated[
        Optional[int],
        Option(
            "--max-chars",
            metavar="N",
            min=1000,
            help="Markdown longer than N characters becomes a summary that fits (a GitHub comment: 60000).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the review packet for a proposal or a range of commits.

    Rationale, blocks added/changed/removed field by field, edges added and
    removed, check findings and what `mm approve` would say in this repo's mode,
    changes to governance files (.mindmem/), what rests on the changed blocks
    (graph impact), and commit signatures. Always exits 0 when the packet was
    made: findings are content, not failure.

    --max-chars N keeps Markdown under N characters: past it, the packet becomes
    a summary (verdict and counts, critical findings, governance files, then one
    line per block while they fit).

    \b
    Example:
      mm review P-20261125-ab12cd
      mm review main..proposals/P-20261125-ab12cd --format markdown > comment.md
      mm review origin/main..HEAD --format markdown --max-chars 60000
      mm review origin/main..HEAD --json
    """
    from mindmem.governance.review import review as make_review
    from mindmem.governance.review_format import FORMATS, render

    if fmt not in FORMATS:
        raise BadInput(f"--format '{fmt}' is not one of {', '.join(FORMATS)}")
    if max_chars is not None and (as_json or fmt != "markdown"):
        raise BadInput("--max-chars shortens Markdown; use it with --format markdown")
    with progress("review") as step:
        step("reading the change")
        packet = make_review(memory(), target, step)
    if as_json or fmt == "json":
        print_json(packet.to_json())
    else:
        echo(render(packet, fmt, max_chars), nl=False)
