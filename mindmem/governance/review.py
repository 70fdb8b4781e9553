"""`mm review (P | A..B)`: the review packet for a memory change, as text, Markdown (a PR comment) or JSON.

It gathers what a reviewer needs in one place: the rationale, the blocks added,
changed and removed field by field, the edges added and removed, the check
findings and what the approve gate would say in this repo's mode, what rests on
the changed blocks (graph impact), and who signed the commits. Rendering (text, Markdown,
and the Markdown summary that fits a pull-request comment) is in `review_format`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mindmem.checks import CheckContext, Finding, GateDecision, context_for, gate, run_checks
from mindmem.checks.findings import counts, sort_key
from mindmem.errors import BadInput
from mindmem.governance.candidates import GovernanceChange
from mindmem.governance.trailers import parse_message
from mindmem.jsonable import to_data
from mindmem.store.blocks import parse
from mindmem.store.changes import BlockDiff, diff_block
from mindmem.store.memory import Memory
from mindmem.store.snapshot import is_block_path


@dataclass(frozen=True)
class CommitNote:
    sha: str
    title: str
    author: str
    signature: str  # good | bad | unknown-signer | unsigned
    signer: str | None


@dataclass(frozen=True)
class Dependent:
    """A block that rests on a changed block, `depth` hops away, first reached over edge `via`."""

    id: str
    title: str | None
    status: str | None
    depth: int
    via: str


@dataclass(frozen=True)
class Review:
    target: str
    title: str
    rationale: str
    author: str | None
    base: str | None
    head: str
    mode: str
    commits: tuple[CommitNote, ...]
    blocks: tuple[BlockDiff, ...]
    findings: tuple[Finding, ...]
    decision: GateDecision
    impact: tuple[tuple[str, tuple[Dependent, ...]], ...]
    paths: tuple[str, ...] = ()  # every path the change touches, memory or not
    governance: tuple[GovernanceChange, ...] = ()  # who may do what, field by field: shown first

    @property
    def edges_added(self) -> list[tuple[str, str, str]]:
        return [(d.block_id, t, x) for d in self.blocks for t, x in d.edges_added]

    @property
    def edges_removed(self) -> list[tuple[str, str, str]]:
        return [(d.block_id, t, x) for d in self.blocks for t, x in d.edges_removed]

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "governance": [c.to_json() for c in self.governance],
            "paths": list(self.paths),
            "title": self.title,
            "rationale": self.rationale,
            "author": self.author,
            "base": self.base,
            "head": self.head,
            "mode": self.mode,
            "commits": to_data(self.commits),
            "blocks": [d.to_json() for d in self.blocks],
            "edges": {
                "added": [{"source": s, "type": t, "target": x} for s, t, x in self.edges_added],
                "removed": [{"source": s, "type": t, "target": x} for s, t, x in self.edges_removed],
            },
            "findings": [f.to_json() for f in self.findings],
            "counts": counts(list(self.findings)),
            "gate": {"allowed": self.decision.allowed, "mode": self.decision.mode, "message": self.decision.message},
            "impact": [{"block": b, "dependents": to_data(deps)} for b, deps in self.impact],
        }


@dataclass(frozen=True)
class _Change:
    """What a review target changes, and the checks' view of the tree it leads to."""

    ctx: CheckContext
    base: str | None
    head: str
    title: str
    rationale: str
    author: str | None
    shas: list[str]
    changed: dict[str, tuple[bytes | None, bool]]  # block path -> (old bytes, still there)
    paths: list[str]
    governance: tuple[GovernanceChange, ...] = ()
    findings: tuple[Finding, ...] = ()  # on the proposal as a whole


def review(memory: Memory, target: str, progress: Callable[[str], None] | None = None) -> Review:
    """The packet for proposal `P-…` or revision range `A..B` (what changed from merge-base(A, B) to B).
    `progress(stage)` hears each stage as it starts."""
    step = progress or (lambda _stage: None)
    if ".." in target:
        change = _of_range(memory, target)
    elif target.startswith("P-"):
        change = _of_proposal(memory, target)
    else:
        raise BadInput(f"'{target}' is neither a proposal (P-…) nor a range (A..B)")
    ctx = change.ctx
    step(f"checking {len(ctx.focus)} block(s)")
    findings = sorted(run_checks(ctx) + list(change.findings), key=sort_key)
    step("comparing the blocks field by field")
    blocks = tuple(_diffs(ctx, change.changed))
    step("reading the signatures")
    return Review(
        target=ctx.label,
        title=change.title,
        rationale=change.rationale,
        author=change.author,
        base=change.base,
        head=change.head,
        mode=memory.settings.mode,
        commits=_signatures(memory, change.shas),
        blocks=blocks,
        findings=tuple(findings),
        decision=gate(findings, memory.settings.mode),
        impact=_impact(ctx, blocks, step),
        paths=tuple(change.paths),
        governance=change.governance,
    )


def _of_range(memory: Memory, target: str) -> _Change:
    git = memory.git
    a_rev, _, b_rev = target.partition("..")
    head, a = git.resolve(b_rev), git.resolve(a_rev)
    base = git.merge_base(a, head) or a
    shas = _range(memory, base, head)
    messages = [parse_message(git.commit_info(sha).message) for sha in shas]
    return _Change(
        ctx=context_for(memory, rev_range=target),
        base=base,
        head=head,
        title=messages[-1].title if len(messages) == 1 else f"{len(shas)} commits {base[:12]}..{head[:12]}",
        rationale="\n\n".join(m.body for m in messages if m.body),
        author=messages[-1].get("Mm-Author") if messages else None,
        shas=shas,
        changed={
            path: (git.read_blob(old) if old else None, new is not None)
            for path, (old, new) in git.changed_blobs(base, head, memory.root).items()
            if is_block_path(path)
        },
        paths=sorted(git.changed_names(base, head)),
    )


def _of_proposal(memory: Memory, target: str) -> _Change:
    from mindmem import governance

    prop = governance.find_proposal(memory, target)
    cand = governance.candidate(memory, prop)
    return _Change(
        ctx=context_for(memory, proposal=governance.merge_for_checks(cand)),
        base=prop.base,
        head=prop.head,
        title=prop.title,
        rationale=prop.rationale,
        author=prop.author,
        shas=list(prop.commits),
        # The candidate holds every changed path and its bytes already: nothing is diffed again.
        changed={
            path: (old, new is not None)
            for path, (old, new) in cand.changed.items()
            if path.startswith(memory.root + "/") and is_block_path(path)
        },
        paths=sorted(cand.changed),
        governance=tuple(cand.governance),
        findings=tuple(cand.findings),
    )


def _signatures(memory: Memory, shas: list[str]) -> tuple[CommitNote, ...]:
    from mindmem.governance.audit import Judge  # approvers as of each commit's parent, as audit and verify judge

    judge = Judge(memory)
    out = []
    for sha in shas:
        info = memory.git.commit_info(sha)
        verdict = judge(sha)
        out.append(
            CommitNote(sha, parse_message(info.message).title, info.author.name, verdict.status, verdict.principal)
        )
    return tuple(out)


def _diffs(ctx: CheckContext, changed: Mapping[str, tuple[bytes | None, bool]]) -> list[BlockDiff]:
    """Field-level diffs of the changed block files, from `{path: (old bytes, still there)}`.

    The new side is the block the checks already parsed: the checked tree holds every change's new
    side (a range's head; for a proposal the merge, which refuses blocks both sides changed), so at
    5,000 blocks nothing is read or parsed twice."""
    by_path = {path: block_id for block_id, path in ctx.snapshot.paths.items()}
    out = []
    for path in sorted(changed):
        old_data, present = changed[path]
        old = parse(old_data, path) if old_data is not None else None
        if not present:
            new = None
        elif path in by_path:
            new = ctx.snapshot.blocks[by_path[path]]
        else:  # it does not parse: the same error the checks found
            new = parse(ctx.read(path) if ctx.read else b"", path)
        out.append(diff_block(path, old, new))
    return out


def _range(memory: Memory, base: str, head: str) -> list[str]:
    """Commits in base..head that change memory, oldest first."""
    git = memory.git
    out = []
    for sha in git.commits_between(base, head):
        parents = git.commit_info(sha).parents
        if git.changed_blobs(parents[0] if parents else None, sha, memory.root):  # names only, no blob read
            out.append(sha)
    return out


def _impact(
    ctx: CheckContext, blocks: tuple[BlockDiff, ...], step: Callable[[str], None]
) -> tuple[tuple[str, tuple[Dependent, ...]], ...]:
    """What rests on each changed or removed block (mm graph impact), in the tree the checks looked at
    (for a proposal, the one approving it would write); only the blocks that reach them are read."""
    existing = [d.block_id for d in blocks if d.action != "added"]
    if not existing:  # nothing can rest on a block that is new (and networkx is slow to import)
        return ()
    from mindmem.search.graph import build_graph, impact

    step("walking the graph for impact")
    g = build_graph(ctx.upstream(existing))
    out = []
    for d in blocks:
        if d.action == "added" or d.block_id not in g:
            continue
        hops = impact(g, d.block_id)
        if hops:
            deps = tuple(Dependent(h.node.id, h.node.title, h.node.status, h.depth, h.via.type) for h in hops)
            out.append((d.block_id, deps))
    return tuple(out)
