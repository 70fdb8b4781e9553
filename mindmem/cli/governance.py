"""Governance commands: propose, proposals, diff, approve, reject, rebase, rollback, log, audit, verify."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

from mindmem.cli.app import JsonOpt, app, echo, memory, print_json
from mindmem.cli.commands import Argument, Option
from mindmem.errors import BadInput, CheckFailed

if TYPE_CHECKING:
    from mindmem.governance import Proposal
    from mindmem.governance.audit import Event
    from mindmem.store.changes import InlineEdit
    from mindmem.store.memory import Memory

RationaleOpt = Annotated[
    Optional[str], Option("--rationale", "-r", help="Why (at least 8 characters); kept in the commit forever.")
]
PidArg = Annotated[str, Argument(metavar="P", help="Proposal ID, e.g. P-20261125-1a2b3c.")]


@app.command()
def propose(
    rationale: RationaleOpt = None,
    title: Annotated[Optional[str], Option("--title", help="Proposal title (default: made from the changes).")] = None,
    files: Annotated[
        Optional[list[Path]],
        Option("--file", "-f", help="Block file from anywhere (repeatable), or - for a stream on stdin."),
    ] = None,
    add: Annotated[Optional[str], Option("--add", help="Add a new block of this TYPE (title via --set).")] = None,
    edit: Annotated[Optional[str], Option("--edit", metavar="ID", help="Change fields of this block.")] = None,
    supersede: Annotated[
        Optional[str], Option("--supersede", metavar="ID", help="With --add: the new block replaces this one.")
    ] = None,
    revoke: Annotated[Optional[list[str]], Option("--revoke", metavar="ID", help="Mark a block revoked.")] = None,
    set_: Annotated[Optional[list[str]], Option("--set", "-s", help="key=value (YAML value), repeatable.")] = None,
    edge: Annotated[Optional[list[str]], Option("--edge", "-e", help="EDGE_TYPE:ID, repeatable.")] = None,
    body: Annotated[Optional[str], Option("--body", "-b", help="Markdown body for --add/--edit, or -.")] = None,
    as_agent: Annotated[Optional[str], Option("--as", help="Propose on behalf of agent:NAME.")] = None,
    amend: Annotated[
        Optional[str], Option("--amend", metavar="P", help="Revise open proposal P: add the changes to it.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose memory changes on a new branch proposals/P-…, for review and approval.

    By default the uncommitted changes under the memory root move onto the
    proposal and the work tree goes back to the governed branch for those
    paths (like a stash that becomes a branch). Or give block files with
    --file, or inline edits with --add/--edit/--supersede/--revoke.
    Prints the proposal ID.

    \b
    Example:
      mm new decision -t "Use PostgreSQL for billing" && mm propose -r "Team agreed in the storage review"
      mm propose -r "Imported from the wiki" --file notes/D-20261125-7f3a9c.md
      mm propose -r "Postgres replaces MySQL" --add decision --set title="Use PostgreSQL" \\
          --supersede D-20260301-01bc22
      mm propose -r "Task finished last week" --edit T-20261101-00aa11 --set status=done
      mm propose -r "Was never true; see incident" --revoke F-20261120-aa10f3
      mm propose -r "Reviewer asked for the due date" --amend P-20261125-1a2b3c --edit T-20261101-00aa11 \\
          --set due=2026-12-01
    """
    from mindmem import governance as gov
    from mindmem.store.changes import InlineEdit

    request = InlineEdit(add=add, edit=edit, supersede=supersede, revoke=tuple(revoke or ()))
    inline = request != InlineEdit()
    if files and inline:
        raise BadInput("use either --file or inline edits (--add/--edit/--supersede/--revoke), not both")
    if (set_ or edge or body is not None) and not (add or edit):
        raise BadInput("--set, --edge and --body go with --add or --edit")
    mem = memory()
    options = {"rationale": rationale or "", "title": title, "author": as_agent, "amend": amend}
    if files:
        proposal = gov.propose(mem, _file_changes(mem, files), **options)
    elif inline:
        changes = gov.inline_changes(mem, _with_values(request, set_, edge, body), author=as_agent)
        proposal = gov.propose(mem, changes, **options)
    else:
        proposal = gov.propose_worktree(mem, **options)
    if as_json:
        print_json(proposal.to_json())
        return
    echo(proposal.id)
    echo(f"  {proposal.title} ({', '.join(proposal.blocks) or 'no blocks'})", err=True)
    echo(f"  review: mm diff {proposal.id}    approve: mm approve {proposal.id}", err=True)


def _file_changes(mem: Memory, files: list[Path]) -> dict[str, bytes | None]:
    """`--file` paths (and `-`, a stream of blocks on stdin) as the changes they make."""
    from mindmem.store import changes as ch
    from mindmem.store.text import read_stdin

    texts: list[tuple[str, bytes | str]] = []
    for path in files:
        if str(path) == "-":
            texts += ch.split_stream(read_stdin())
        elif not path.is_file():
            raise BadInput(f"{path}: no such file")
        else:
            texts.append((str(path), path.read_bytes()))
    return ch.from_texts(texts, mem.root)


def _with_values(request: InlineEdit, sets: list[str] | None, edges: list[str] | None, body: str | None) -> InlineEdit:
    """The inline edit with its `--set`, `--edge` and `--body` values (`--body -` reads stdin)."""
    from dataclasses import replace

    from mindmem.cli.options import parse_edges, parse_sets
    from mindmem.store.text import read_stdin

    text = read_stdin() if body == "-" else body
    return replace(request, fields=parse_sets(sets), edges=tuple(parse_edges(edges)), body=text)


@app.command()
def proposals(
    all_: Annotated[bool, Option("--all", help="Include rejected proposals.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List open proposals: author, age, blocks touched, and whether each still applies cleanly.

    \b
    Example:
      mm proposals
      mm proposals --all --json
    """
    from mindmem import governance as gov

    mem = memory()
    found = [(p, _state(mem, p)) for p in gov.list_proposals(mem, include_rejected=all_)]
    if as_json:
        print_json(
            [{**p.to_json(), "merge": state, "applies_cleanly": state == "merges cleanly"} for p, state in found]
        )
        return
    if not found:
        echo("no open proposals")
    for p, state in found:
        echo(f"{p.id}  {_age(p.time):>4}  {p.author:<16} {state:<12} {p.title}  [{', '.join(p.blocks)}]")


@app.command()
def diff(pid: PidArg, as_json: JsonOpt = False) -> None:
    """Show what a proposal changes, block by block and field by field.

    \b
    Example:
      mm diff P-20261125-1a2b3c
    """
    from mindmem import governance as gov

    mem = memory()
    show_proposal(mem, gov.find_proposal(mem, pid), as_json)


def show_proposal(mem: Memory, proposal: Proposal, as_json: bool) -> None:
    """Print a proposal, every path it changes, its governance changes and its block diffs
    (shared by `mm diff P` and `mm show P`)."""
    from mindmem import governance as gov
    from mindmem.governance.review_format import short

    cand = gov.candidate(mem, proposal) if proposal.state == "open" else None
    paths = sorted(cand.changed) if cand else sorted(gov.proposal_changes(mem, proposal))
    changes = cand.governance if cand else ()
    diffs = gov.proposal_diff(mem, proposal)
    if as_json:
        print_json(
            {
                **proposal.to_json(),
                "paths": paths,
                "governance": [c.to_json() for c in changes],
                "changes": [d.to_json() for d in diffs],
            }
        )
        return
    echo(f"{proposal.id} ({proposal.state}) by {proposal.author}: {proposal.title}")
    for change in changes:
        echo(f"  governance change: {change.detail}")
    if proposal.rationale:
        echo(f"  rationale: {proposal.rationale}")
    outside = [p for p in paths if not p.startswith((mem.root + "/", ".mindmem/"))]
    echo(f"  paths: {', '.join(paths)}")
    if outside:
        echo(f"  outside memory (approve refuses these): {', '.join(outside)}")
    for d in diffs:
        echo(f"\n{d.action} {d.block_id}  {d.title}  ({d.path})")
        for f in d.fields:
            if d.action == "changed":
                echo(f"  {f.key}: {short(f.old, 60)} -> {short(f.new, 60)}")
            else:
                echo(f"  {'+' if d.action == 'added' else '-'} {f.key}: {short(f.new or f.old, 60)}")
        for line in d.body:
            echo(f"  {line}")


@app.command()
def approve(
    pid: PidArg,
    rationale: RationaleOpt = None,
    keep_worktree: Annotated[
        bool, Option("--keep-worktree", help="Approve even when the work tree has changes to these blocks.")
    ] = False,
    override: Annotated[
        bool, Option("--override", help="propose mode: approve despite critical findings (needs -r).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Approve a proposal: a signed merge commit on the governed branch, moved by compare-and-swap.

    The checks run on the proposal first (`mm check --proposal P`): a critical
    finding refuses in enforce mode, needs --override with a rationale in propose
    mode, and is only recorded in detect_only mode; findings go into the commit as
    Mm-Check trailers. Also refuses (and writes nothing) when the governed branch
    changed the same blocks since the proposal was made (run `mm rebase P`), in
    enforce mode without a key of an allowed signer, or when uncommitted changes
    would be overwritten.

    \b
    Example:
      mm approve P-20261125-1a2b3c -r "Matches the storage review"
      mm approve P-20261125-1a2b3c --override -r "Contradiction is intended: old rule ends Friday"
    """
    from mindmem import governance as gov

    result = gov.approve(memory(), pid, rationale=rationale, keep_worktree=keep_worktree, override=override)
    if as_json:
        print_json(result.to_json())
        return
    echo(f"approved {pid} in {result.commit[:12]}{'' if result.signed else ' (unsigned)'}")
    echo(f"checks: {result.checks.message}", err=True)
    if result.note:
        echo(f"note: {result.note}", err=True)


@app.command()
def reject(pid: PidArg, rationale: RationaleOpt = None, as_json: JsonOpt = False) -> None:
    """Reject a proposal: a signed record of the reason; the branch becomes rejected/P-….

    \b
    Example:
      mm reject P-20261125-1a2b3c -r "Duplicates D-20261001-77aa00"
    """
    from mindmem import governance as gov

    sha = gov.reject(memory(), pid, rationale=rationale or "")
    if as_json:
        print_json({"proposal": pid, "commit": sha, "branch": f"{gov.REJECTED}{pid}"})
        return
    echo(f"rejected {pid} in {sha[:12]} (branch rejected/{pid})")


@app.command()
def rebase(pid: PidArg, as_json: JsonOpt = False) -> None:
    """Replay an open proposal on the current head of the governed branch, when that is clean.

    \b
    Example:
      mm rebase P-20261125-1a2b3c && mm approve P-20261125-1a2b3c
    """
    from mindmem import governance as gov

    sha = gov.rebase(memory(), pid)
    if as_json:
        print_json({"proposal": pid, "commit": sha})
        return
    echo(f"rebased {pid} onto the governed branch ({sha[:12]})")


@app.command()
def rollback(
    target: Annotated[str, Argument(metavar="P|ID|SHA", help="An approved proposal, a block, or a commit.")],
    rationale: RationaleOpt = None,
    dry_run: Annotated[bool, Option("--dry-run", help="Only show what would change.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Roll back an approval, a block's last change, or a commit, with a signed revert commit.

    Shows first which blocks change and which blocks rest on them (edges
    pointing at them), so you see what the rollback leaves stale.

    \b
    Example:
      mm rollback P-20261125-1a2b3c -r "Benchmarks showed the opposite" --dry-run
      mm rollback D-20261125-7f3a9c -r "Reverted by mistake last week"
    """
    from mindmem import governance as gov
    from mindmem.governance.trailers import check_rationale

    mem = memory()
    if not dry_run:
        check_rationale(rationale)
    plan = gov.plan_rollback(mem, target)
    sha = None if dry_run else gov.rollback(mem, plan, rationale=rationale or "")
    if as_json:
        print_json({**plan.to_json(), "commit": sha})
        return
    echo(f"rolls back {plan.target[:12]} {plan.title}")
    echo(f"  blocks changed: {', '.join(plan.blocks)}")
    for dependent, on in plan.dependents:
        echo(f"  left stale: {dependent} rests on {on}")
    echo(f"rolled back in {sha[:12]}" if sha else "dry run: nothing written")


@app.command()
def log(
    block_id: Annotated[str, Argument(metavar="ID", help="Block ID.")],
    as_json: JsonOpt = False,
) -> None:
    """The history of one block across proposals, approvals, rejections and rollbacks, with rationales.

    \b
    Example:
      mm log D-20261125-7f3a9c
    """
    from mindmem.governance.audit import block_log

    _print_events(block_log(memory(), block_id), as_json)


@app.command()
def audit(
    since: Annotated[Optional[str], Option(help="Only since this revision or date (YYYY-MM-DD).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The governance chain, newest first: who proposed, approved, rejected or rolled back what, why, signed?

    Signature status is good (an allowed signer), bad, unknown-signer or unsigned,
    the same verdict `git verify-commit` gives with .mindmem/allowed_signers.

    \b
    Example:
      mm audit --since 2026-11-01
      mm audit --json | jq '.[] | select(.signature != "good")'
    """
    from mindmem.governance.audit import audit as run_audit

    _print_events(run_audit(memory(), since=since), as_json)


@app.command()
def verify(
    since: Annotated[
        Optional[str], Option(help="Judge only commits after this revision (an explicit, printed escape hatch).")
    ] = None,
    expect: Annotated[
        Optional[str],
        Option(help="Fail unless the governed branch still contains this commit (CI: the last verified tip)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Exit 0 only when every memory change on the governed branch is an approval or rollback its rules allowed.

    The rules come from history: governance starts at the genesis (the first
    commit that adds .mindmem/config.toml, printed), and each later commit is
    judged by the settings and approvers committed before it, so a commit that
    loosens them is judged by the rules it changes. In enforce mode approvals must
    be signed by an approver; in propose mode unsigned approvals are warnings;
    changes to .mindmem/ always need an approver's signature. A governed branch
    that moved backwards or sideways since the last verify is an offence. Every
    block at the head must parse. This is what CI runs.

    \b
    Example:
      mm verify
      mm verify --expect 3f2a1c9e --json
    """
    from mindmem.governance.verify import verify as run_verify

    report = run_verify(memory(), since=since, expect=expect)
    if as_json:
        print_json(report.to_json())
    else:
        echo(f"genesis {report.genesis or '(none: nothing is governed yet)'} on {report.branch}")
        for note in report.notes:
            echo(f"note: {note}")
        for o in report.offenders:
            echo(f"{o.sha}  {o.reason}: {o.title}")
        for o in report.warnings:
            echo(f"{o.sha}  warning: {o.reason}: {o.title}")
        verdict = "ok" if report.ok else f"{len(report.offenders)} offender(s)"
        echo(f"verify: {report.checked} memory commit(s) checked, {verdict}")
    if not report.ok and as_json:
        raise SystemExit(CheckFailed.exit_code)
    if not report.ok:
        raise CheckFailed("memory history is not fully governed")


def _print_events(events: list[Event], as_json: bool) -> None:
    if as_json:
        print_json([e.to_json() for e in events])
        return
    for e in events:
        who = f"{e.actor}" + (f" [{e.signature}]" if e.kind != "proposed" else "")
        echo(f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(e.time))}  {e.kind:<11} {e.sha[:12]}  {who}")
        echo(f"    {e.title}")
        if e.rationale:
            echo(f"    why: {' '.join(e.rationale.split())}")


def _state(mem: Memory, proposal: Proposal) -> str:
    """How it merges, and whether the approve gate would refuse it as it stands."""
    from mindmem import governance as gov
    from mindmem.checks import context_for, run_checks

    state = gov.proposal_state(mem, proposal)
    if state != "merges cleanly":
        return state
    merge, own = gov.checks_for(mem, proposal.id)
    critical = sum(f.severity == "critical" for f in run_checks(context_for(mem, proposal=merge)) + own)
    return f"merges cleanly, {critical} critical" if critical else state


def _age(seconds: int) -> str:
    delta = max(0, int(time.time()) - seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if delta >= size:
            return f"{delta // size}{unit}"
    return f"{delta}s"
