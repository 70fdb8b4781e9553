"""Roll back an approval, a block's last change, or a commit, with a signed revert on the governed branch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mindmem.errors import BadInput, NotFound, StateError
from mindmem.governance.approving import approval_signer, refresh_plan
from mindmem.governance.proposals import PROPOSAL_RE, find_approval
from mindmem.governance.trailers import check_rationale, compose, parse_message
from mindmem.search.index_state import keep_in_step
from mindmem.store import changes as ch
from mindmem.store.blocks import ID_RE
from mindmem.store.config import CONFIG_DIR
from mindmem.store.git.values import CommitInfo
from mindmem.store.memory import Memory


@dataclass(frozen=True)
class RollbackPlan:
    target: str  # the commit being reverted
    title: str
    tree: str
    tip: str
    changed: Mapping[str, tuple[bytes | None, bytes | None]]
    blocks: tuple[str, ...]
    dependents: tuple[tuple[str, str], ...]  # (dependent block, the changed block it rests on)

    def to_json(self) -> dict[str, Any]:
        return {
            "reverts": self.target,
            "title": self.title,
            "blocks": list(self.blocks),
            "dependents": [{"block": d, "rests_on": on} for d, on in self.dependents],
        }


def plan_rollback(memory: Memory, target: str) -> RollbackPlan:
    """Which commit a rollback reverts, the tree it leaves, the blocks it changes and what rests on them."""
    from mindmem.search import graph

    git = memory.git
    branch = memory.settings.governed_branch
    tip = git.branch_tip(branch)
    if tip is None:
        raise StateError(f"the governed branch '{branch}' has no commits")
    history = list(git.walk(tip, first_parent=True))
    if PROPOSAL_RE.match(target):
        approval = find_approval(memory, target)
        if approval is None:
            raise NotFound(f"{target} has no approval on {branch} to roll back")
        commit, tree = approval, _revert(memory, approval, tip)
    elif ID_RE.match(target):
        commit, tree = _last_change(memory, history, target, tip)
    else:
        sha = git.resolve(target)
        commit = next((c for c in history if c.sha == sha), None)
        if commit is None:
            raise BadInput(f"{target} is not a commit on the first-parent history of {branch}")
        tree = _revert(memory, commit, tip)
    for later in history:
        if later.sha == commit.sha:
            break
        if parse_message(later.message).get("Mm-Reverts") == commit.sha:
            raise StateError(f"{commit.sha[:12]} was already rolled back in {later.sha[:12]}")
    changed = git.changed_paths(tip, tree, memory.root)
    if not changed:
        raise BadInput(f"rolling back {target} would change nothing under {memory.root}/")
    ids = ch.block_ids({p: new for p, (_, new) in changed.items()}, {p: old for p, (old, _) in changed.items()})
    g = graph.build_graph(memory.snapshot(tip))
    dependents = sorted(
        {(hop.node.id, block_id) for block_id in ids if block_id in g for hop in graph.impact(g, block_id)}
        - {(i, j) for i in ids for j in ids}
    )
    title = parse_message(commit.message).title
    return RollbackPlan(commit.sha, title, tree, tip, changed, tuple(ids), tuple(dependents))


def rollback(memory: Memory, plan: RollbackPlan, *, rationale: str) -> str:
    """Write the planned revert as a (signed) commit on the governed branch, by compare-and-swap."""
    rationale = check_rationale(rationale)
    git = memory.git
    branch = memory.settings.governed_branch
    touched = sorted(plan.changed)
    refresh = refresh_plan(memory, plan.tip, touched, keep_worktree=False)
    governance = bool(git.changed_paths(plan.tip, plan.tree, CONFIG_DIR))
    signer = approval_signer(memory, governance=governance)
    person = memory.person()
    message = compose(
        f"Roll back {plan.target[:12]}: {plan.title}",
        rationale,
        {
            "Mm-Decision": "rolled-back",
            "Mm-Reverts": plan.target,
            "Mm-Approver": person.name,
            "Mm-Blocks": list(plan.blocks),
        },
    )
    sha = git.create_commit(plan.tree, [plan.tip], message, person, sign=signer)
    git.update_ref(f"refs/heads/{branch}", sha, plan.tip, f"mindmem: roll back {plan.target[:12]}")
    if refresh:
        git.refresh_paths(sha, touched)
    keep_in_step(memory)
    return sha


def _revert(memory: Memory, commit: CommitInfo, tip: str) -> str:
    mainline = 1 if len(commit.parents) > 1 else 0
    if not commit.parents:
        raise BadInput(f"{commit.sha[:12]} is a root commit; there is nothing to revert it to")
    tree, conflicts = memory.git.revert_tree(commit.sha, tip, mainline)
    if tree is None:
        raise StateError(
            f"reverting {commit.sha[:12]} conflicts with later changes in {', '.join(conflicts)}; nothing was written"
        )
    return tree


def _last_change(memory: Memory, history: list[CommitInfo], block_id: str, tip: str) -> tuple[CommitInfo, str]:
    """The newest first-parent commit that changed the block, and the tip's tree with that change undone."""
    git = memory.git
    snapshot_path = None
    for info in history:
        parent = info.parents[0] if info.parents else None
        for path in git.changed_paths(parent, info.sha, memory.root):
            if path.rsplit("/", 1)[-1] == f"{block_id}.md":
                snapshot_path = path
                break
        if snapshot_path:
            old = git.read_file(parent, snapshot_path) if parent else None
            return info, git.tree_with(tip, {snapshot_path: old})
    raise NotFound(f"no commit on {memory.settings.governed_branch} changed {block_id}")
