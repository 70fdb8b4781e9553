"""`mm review (P | A..B)`: the review packet for a memory change, as text, Markdown (a PR comment) or JSON.

It gathers what a reviewer needs in one place: the rationale, the blocks added,
changed and removed field by field, the edges added and removed, the check
findings and what the approve gate would say in this repo's mode, what rests on
the changed blocks (graph impact), and who signed the commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mindmem.changes import BlockDiff, diff_blocks
from mindmem.checks import Finding, GateDecision, context_for, gate, run_checks
from mindmem.checks.findings import counts, sort_key
from mindmem.checks.sources import snapshot_at
from mindmem.errors import BadInput
from mindmem.governance.candidate import GovernanceChange
from mindmem.memory import Memory
from mindmem.trailers import parse_message

FORMATS = ("text", "markdown", "json")


@dataclass(frozen=True)
class CommitNote:
    sha: str
    title: str
    author: str
    signature: str  # good | bad | unknown-signer | unsigned
    signer: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class Dependent:
    """A block that rests on a changed block, `depth` hops away, first reached over edge `via`."""

    id: str
    title: str | None
    status: str | None
    depth: int
    via: str

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


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
            "commits": [c.to_json() for c in self.commits],
            "blocks": [d.to_json() for d in self.blocks],
            "edges": {
                "added": [{"source": s, "type": t, "target": x} for s, t, x in self.edges_added],
                "removed": [{"source": s, "type": t, "target": x} for s, t, x in self.edges_removed],
            },
            "findings": [f.to_json() for f in self.findings],
            "counts": counts(list(self.findings)),
            "gate": {"allowed": self.decision.allowed, "mode": self.decision.mode, "message": self.decision.message},
            "impact": [{"block": b, "dependents": [d.to_json() for d in deps]} for b, deps in self.impact],
        }


def review(memory: Memory, target: str) -> Review:
    """The packet for proposal `P-…` or revision range `A..B` (what changed from merge-base(A, B) to B)."""
    from mindmem.governance.audit import Judge  # approvers as of each commit's parent, as audit and verify judge

    git = memory.git
    if ".." in target:
        ctx = context_for(memory, rev_range=target)
        a_rev, _, b_rev = target.partition("..")
        head, a = git.resolve(b_rev), git.resolve(a_rev)
        base = git.merge_base(a, head) or a
        shas = _range(memory, base, head)
        messages = [parse_message(git.commit_info(sha).message) for sha in shas]
        title = messages[-1].title if len(messages) == 1 else f"{len(shas)} commits {base[:12]}..{head[:12]}"
        rationale = "\n\n".join(m.body for m in messages if m.body)
        author = messages[-1].get("Mm-Author") if messages else None
        diff_head, snapshot_rev = head, head
        paths, changes, extra = sorted(git.changed_names(base, head)), (), []
    elif target.startswith("P-"):
        from mindmem import governance

        prop = governance.find_proposal(memory, target)
        cand = governance.candidate(memory, prop)
        ctx = context_for(memory, proposal=governance.merge_for_checks(cand))
        base, head, title, rationale, author = prop.base, prop.head, prop.title, prop.rationale, prop.author
        shas = list(prop.commits)
        diff_head, snapshot_rev = prop.commit, prop.head
        paths, changes, extra = sorted(cand.changed), cand.governance, cand.findings
    else:
        raise BadInput(f"'{target}' is neither a proposal (P-…) nor a range (A..B)")
    findings = sorted(run_checks(ctx) + extra, key=sort_key)
    blocks = tuple(diff_blocks(git.changed_paths(base, diff_head, memory.root)))
    judge = Judge(memory)
    commits = []
    for sha in shas:
        info = git.commit_info(sha)
        verdict = judge(sha)
        commits.append(
            CommitNote(sha, parse_message(info.message).title, info.author.name, verdict.status, verdict.principal)
        )
    return Review(
        target=ctx.label,
        title=title,
        rationale=rationale,
        author=author,
        base=base,
        head=head,
        mode=memory.settings.mode,
        commits=tuple(commits),
        blocks=blocks,
        findings=tuple(findings),
        decision=gate(findings, memory.settings.mode),
        impact=_impact(memory, snapshot_rev, blocks),
        paths=tuple(paths),
        governance=tuple(changes),
    )


def _range(memory: Memory, base: str, head: str) -> list[str]:
    """Commits in base..head that change memory, oldest first."""
    git = memory.git
    out = []
    for sha in git.commits_between(base, head):
        parents = git.commit_info(sha).parents
        if git.changed_paths(parents[0] if parents else None, sha, memory.root):
            out.append(sha)
    return out


def _impact(memory: Memory, rev: str, blocks: tuple[BlockDiff, ...]) -> tuple[tuple[str, tuple[Dependent, ...]], ...]:
    """What rests on each changed or removed block (mm graph impact), in the snapshot after the change."""
    from mindmem.graph import build_graph, impact

    g = build_graph(snapshot_at(memory, rev))
    out = []
    for d in blocks:
        if d.action == "added" or d.block_id not in g:
            continue
        hops = impact(g, d.block_id)
        if hops:
            deps = tuple(Dependent(h.node.id, h.node.title, h.node.status, h.depth, h.via.type) for h in hops)
            out.append((d.block_id, deps))
    return tuple(out)


# -- rendering ------------------------------------------------------------------------------


def render(packet: Review, fmt: str) -> str:
    if fmt not in FORMATS:
        raise BadInput(f"--format '{fmt}' is not one of {', '.join(FORMATS)}")
    if fmt == "markdown":
        return _markdown(packet)
    return _text(packet)


APPROVAL_NEEDS = {
    "enforce": "a merge signed by a key in .mindmem/allowed_signers; critical findings refuse",
    "propose": "a merge by `mm approve` (signing optional); critical findings need --override and a rationale",
    "detect_only": "nothing: direct commits are allowed and findings only warn",
}


def _value(value: Any) -> str:
    """A frontmatter value as it reads in a block file: `{axis: x, scope: y}`, `[a, b]`."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def _short(value: Any, limit: int | None = 80) -> str:
    text = " ".join(_value(value).split())
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _text(p: Review) -> str:
    out = [f"{p.target}: {p.title}"]
    if p.governance:
        out += ["governance changes (who may do what):", *(f"  {c.detail}" for c in p.governance)]
    if p.author:
        out.append(f"author: {p.author}")
    out.append(f"base {(p.base or '-')[:12]}  head {p.head[:12]}  mode {p.mode}")
    if p.rationale:
        out += ["", "rationale:", *(f"  {line}" for line in p.rationale.splitlines())]
    out += ["", f"gate: {'allowed' if p.decision.allowed else 'refused'} ({p.decision.message})"]
    for f in p.findings:
        out.append(f"  {f.code} {f.severity} {f.location} {f.message}")
        if f.fix:
            out.append(f"    fix: {f.fix}")
    out += ["", f"paths ({len(p.paths)}):", *(f"  {path}" for path in p.paths)]
    out += ["", f"blocks ({len(p.blocks)}):"]
    for d in p.blocks:
        out.append(f"  {d.action} {d.block_id}  {d.title}")
        for c in d.fields:
            out.append(f"    {c.key}: {_short(c.old)} -> {_short(c.new)}")
        out += [f"    {line}" for line in d.body]
    for label, edges in (("edges added", p.edges_added), ("edges removed", p.edges_removed)):
        if edges:
            out += ["", f"{label}:", *(f"  {s} -{t}-> {x}" for s, t, x in edges)]
    if p.impact:
        out += ["", "impact (what rests on the changed blocks):"]
        for block_id, deps in p.impact:
            out.append(f"  {block_id}: " + ", ".join(f"{d.id} ({d.via}, depth {d.depth})" for d in deps))
    out += ["", "signatures:"]
    out += [f"  {c.sha[:12]} {c.signature}{f' by {c.signer}' if c.signer else ''}  {c.title}" for c in p.commits]
    out.append(f"  approval in {p.mode} mode needs {APPROVAL_NEEDS[p.mode]}")
    return "\n".join(out) + "\n"


def _cell(value: Any, limit: int | None = 120) -> str:
    return _short(value, limit).replace("|", "\\|")


def _markdown(p: Review) -> str:
    verdict = "✅ approvable" if p.decision.allowed else "❌ refused"
    out = [f"## mindmem review: {p.target}", "", f"**{_cell(p.title)}**", ""]
    meta = [f"mode `{p.mode}`", f"base `{(p.base or '-')[:12]}`", f"head `{p.head[:12]}`"]
    if p.author:
        meta.insert(0, f"by {p.author}")
    out += [" · ".join(meta), ""]
    if p.governance:
        out += ["### ⚠️ Governance changes", "", *(f"- {_cell(c.detail)}" for c in p.governance), ""]
    if p.rationale:
        out += ["### Rationale", "", *(f"> {line}" if line else ">" for line in p.rationale.splitlines()), ""]
    tally = counts(list(p.findings))
    summary = f"{tally['critical']} critical, {tally['warning']} warning, {tally['info']} info: {p.decision.message}."
    out += [f"### Checks: {verdict}", "", summary if p.findings else "No findings.", ""]
    if p.findings:
        out += ["| code | severity | where | finding | fix |", "| --- | --- | --- | --- | --- |"]
        out += [
            f"| {f.code} | {f.severity} | `{f.location}` | {_cell(f.message, None)} | {_cell(f.fix or '', None)} |"
            for f in p.findings
        ]
        out.append("")
    out += [f"### Paths ({len(p.paths)})", "", *(f"- `{path}`" for path in p.paths), ""]
    out += [f"### Blocks ({len(p.blocks)})", ""]
    for d in p.blocks:
        out += [f"#### {d.action} `{d.block_id}` {_cell(d.title)}", ""]
        if d.fields:
            out += ["| field | before | after |", "| --- | --- | --- |"]
            out += [f"| {c.key} | {_cell(c.old)} | {_cell(c.new)} |" for c in d.fields]
            out.append("")
        if d.body:
            out += ["<details><summary>body</summary>", "", "```diff", *d.body, "```", "</details>", ""]
    if p.edges_added or p.edges_removed:
        out += ["### Edges", ""]
        out += [f"- added `{s}` —{t}→ `{x}`" for s, t, x in p.edges_added]
        out += [f"- removed `{s}` —{t}→ `{x}`" for s, t, x in p.edges_removed]
        out.append("")
    if p.impact:
        out += ["### Impact", "", "What rests on the changed blocks (cites, depends_on, derived_from, tested_by):", ""]
        for block_id, deps in p.impact:
            out.append(f"- `{block_id}` ← " + ", ".join(f"`{d.id}` ({d.via}, {d.depth} hop)" for d in deps))
        out.append("")
    out += ["### Signatures", ""]
    for c in p.commits:
        who = f" by {c.signer}" if c.signer else ""
        out.append(f"- `{c.sha[:12]}` {c.signature}{who}: {_cell(c.title)}")
    out += ["", f"Approval in `{p.mode}` mode needs {APPROVAL_NEEDS[p.mode]}."]
    return "\n".join(out) + "\n"
