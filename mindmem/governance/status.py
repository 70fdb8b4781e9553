"""`mm status`: where memory stands and what to do next, the way `git status` does for code.

It gathers, without changing anything: uncommitted changes under the memory root and
`.mindmem/`, open proposals with their check findings, age and whether they still apply,
stale citations and expired blocks in the work tree, the search index, the git hooks,
and from all of that the next commands worth running.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from mindmem.checks.findings import Finding, counts
from mindmem.errors import StateError
from mindmem.jsonable import Jsonable
from mindmem.store.config import CONFIG_DIR
from mindmem.store.memory import Memory

# From this many entries on, git's rewrite of its whole index is most of an approval (docs/benchmarks.md).
LARGE_GIT_INDEX = 50_000


@dataclass(frozen=True)
class ProposalState(Jsonable):
    id: str
    title: str
    author: str
    age_seconds: int
    applies_cleanly: bool
    counts: dict[str, int]
    critical: tuple[str, ...]  # one line per critical finding: "CODE message"


@dataclass(frozen=True)
class Status(Jsonable):
    branch: str | None
    governed_branch: str
    mode: str
    changes: tuple[str, ...]
    proposals: tuple[ProposalState, ...]
    stale: tuple[Finding, ...]
    index: dict[str, Any]
    hooks: dict[str, str]
    git_index_entries: int  # in the checkout's index file; a split index counts only its own part
    next: tuple[str, ...]


def status(memory: Memory, *, now: float | None = None) -> Status:
    """Everything `mm status` shows; reads only."""
    from mindmem.governance import hooks
    from mindmem.search import index

    now = time.time() if now is None else now
    git = memory.git
    changes = tuple(git.worktree_changes([memory.root, CONFIG_DIR]))
    proposals = tuple(_proposals(memory, now))
    stale = tuple(_stale(memory))
    idx = index.status(memory)
    index_state = {"fresh": idx.fresh, "indexed": idx.indexed, "target": idx.target, "reason": idx.reason}
    hook_states = {h.name: h.state for h in hooks.status(git)}
    partial = Status(
        git.head_branch(),
        memory.settings.governed_branch,
        memory.settings.mode,
        changes,
        proposals,
        stale,
        index_state,
        hook_states,
        git.index_size(),
        (),
    )
    return Status(**{**vars(partial), "next": tuple(next_steps(partial))})


def _proposals(memory: Memory, now: float) -> list[ProposalState]:
    from mindmem import governance as gov
    from mindmem.checks import context_for, run_checks

    out = []
    for proposal in gov.list_proposals(memory):
        try:
            cand = gov.candidate(memory, proposal)
        except StateError:  # unrelated history: `mm proposals` says so, there is nothing to check
            findings = []
        else:
            findings = run_checks(context_for(memory, proposal=gov.merge_for_checks(cand))) + list(cand.findings)
        critical = tuple(f"{f.code} {f.message}" for f in findings if f.severity == "critical")
        out.append(
            ProposalState(
                proposal.id,
                proposal.title,
                proposal.author,
                max(0, int(now - proposal.time)),
                gov.proposal_state(memory, proposal) == "merges cleanly",
                counts(findings),
                critical,
            )
        )
    return out


def _stale(memory: Memory) -> list[Finding]:
    """Freshness findings at warning or above on the work tree: stale citations, expired blocks."""
    from mindmem.checks import context_for, run_checks

    return run_checks(context_for(memory), families=["freshness"], min_severity="warning")


def next_steps(s: Status) -> list[str]:
    """The commands worth running now, most pressing first."""
    out = []
    if s.changes:
        if s.mode == "detect_only":
            out.append("git add and commit the memory changes (detect_only mode allows direct commits)")
        else:
            out.append('mm propose -r "why"   # turn the uncommitted memory changes into a proposal')
    for p in s.proposals:
        if p.critical:
            out.append(f"mm check --proposal {p.id} --fix   # {len(p.critical)} critical finding(s)")
        elif not p.applies_cleanly:
            out.append(f"mm rebase {p.id}   # no longer applies to {s.governed_branch}")
        else:
            out.append(f"mm review {p.id} && mm approve {p.id}")
    if s.stale:
        out.append("mm check --severity warning   # re-read the cited code, update the blocks")
    # With no index yet there is nothing to do: the first recall builds it.
    if s.index["reason"] and s.index["reason"] != "no index yet" and s.index["target"]:
        out.append(f"mm index rebuild   # {s.index['reason']}")
    if any(state == "absent" for state in s.hooks.values()):
        out.append("mm hooks install   # check commits and keep the index in step")
    if s.git_index_entries >= LARGE_GIT_INDEX and s.branch == s.governed_branch:
        out.append(
            f"git config core.splitIndex true   # a {s.git_index_entries:,}-entry git index: each approval "
            "rewrites it whole (docs/governance.md, Large memory repos)"
        )
    return out


def age(seconds: int) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
