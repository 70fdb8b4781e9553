"""`mm status`: uncommitted memory changes, open proposals, stale citations, index and hooks, what next."""

from __future__ import annotations

from mindmem.cli.app import JsonOpt, app, echo, memory, print_json


@app.command("status")
def status_command(as_json: JsonOpt = False) -> None:
    """Show where memory stands and what to do next (reads only, like `git status`).

    Uncommitted changes under the memory root and .mindmem/; open proposals with
    their age, check findings and whether they still apply; stale citations and
    expired blocks in the work tree; whether the search index is fresh; which
    git hooks are installed; then the next commands worth running.

    \b
    Example:
      mm status
      mm status --json
    """
    from mindmem.governance.status import age, status

    s = status(memory())
    if as_json:
        print_json(s.to_json())
        return
    on = f"on {s.branch}" if s.branch else "HEAD detached"
    echo(f"{on}; governed branch {s.governed_branch}, mode {s.mode}")
    echo("")
    echo(f"uncommitted memory changes ({len(s.changes)}):" if s.changes else "no uncommitted memory changes")
    for path in s.changes:
        echo(f"  {path}")
    echo(f"open proposals ({len(s.proposals)}):" if s.proposals else "no open proposals")
    for p in s.proposals:
        tally = ", ".join(f"{n} {sev}" for sev, n in p.counts.items() if n) or "no findings"
        applies = "applies cleanly" if p.applies_cleanly else "needs rebase"
        echo(f"  {p.id}  {age(p.age_seconds):>4}  {p.author}  {tally}; {applies}  {p.title}")
        for line in p.critical:
            echo(f"    {line}")
    echo(f"stale citations and expired blocks ({len(s.stale)}):" if s.stale else "no stale citations")
    for f in s.stale:
        echo(f"  {f.code} {f.location} {f.message}")
    index = "fresh" if s.index["fresh"] else (s.index["reason"] or "behind; the next recall catches up")
    echo(f"search index: {index}")
    installed = sorted(name for name, state in s.hooks.items() if state == "installed")
    echo(f"git hooks: {', '.join(installed) if installed else 'not installed'}")
    if s.next:
        echo("")
        echo("next:")
        for step in s.next:
            echo(f"  {step}")
