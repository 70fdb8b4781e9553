"""Governance: propose, approve, reject, rebase and roll back memory changes as git commits.

Everything is written as git objects with pygit2 (through repo.py); refs move by
compare-and-swap from the value read at the start, so two racing writers never
lose each other's work. The work tree is only touched where the user asked for
it (propose from the work tree) or where it is on the governed branch and clean.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindmem import changes as ch
from mindmem.blocks import ID_RE, Block, id_relpath, now_utc, parse
from mindmem.config import CONFIG_DIR
from mindmem.errors import BadInput, CheckFailed, NotFound, RefConflict, StateError
from mindmem.index_state import keep_in_step
from mindmem.memory import Memory
from mindmem.repo import CommitInfo, GitRepo, Person
from mindmem.trailers import check_rationale, compose, parse_message

if TYPE_CHECKING:
    from mindmem.checks import GateDecision

PROPOSALS = "proposals/"
REJECTED = "rejected/"
PROPOSAL_RE = re.compile(r"^P-\d{8}-[0-9a-f]{6}$")
ALLOWED_SIGNERS = f"{CONFIG_DIR}/allowed_signers"
ALLOWED_GPG = f"{CONFIG_DIR}/allowed_gpg"
# Test hook: when set to a file path, approve creates that file and waits while it exists,
# between writing the merge commit and moving the governed branch (lets tests kill it there).
PAUSE_ENV = "MM_TEST_PAUSE_BEFORE_REF"


@dataclass(frozen=True)
class Proposal:
    id: str
    state: str  # open | rejected
    branch: str
    head: str  # tip of the proposal branch
    commit: str  # the proposal commit itself (below a rejection commit for rejected ones)
    base: str | None
    title: str
    rationale: str
    author: str
    blocks: tuple[str, ...]
    time: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "branch": self.branch,
            "head": self.head,
            "base": self.base,
            "title": self.title,
            "rationale": self.rationale,
            "author": self.author,
            "blocks": list(self.blocks),
            "created": format_time_s(self.time),
        }


@dataclass(frozen=True)
class Approval:
    proposal: Proposal
    sha: str
    signed: bool
    refreshed: tuple[str, ...]
    note: str | None
    checks: GateDecision


@dataclass(frozen=True)
class RollbackPlan:
    target: str  # the commit being reverted
    title: str
    tree: str
    tip: str
    changed: Mapping[str, tuple[bytes | None, bytes | None]]
    blocks: tuple[str, ...]
    dependents: tuple[tuple[str, str], ...]  # (dependent block, the changed block it rests on)


def format_time_s(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


# -- propose ---------------------------------------------------------------------


def propose(
    memory: Memory,
    changes: Mapping[str, bytes | None],
    *,
    rationale: str,
    title: str | None = None,
    author: str | None = None,
) -> Proposal:
    """Make branch proposals/P-… off the governed branch with one commit holding `changes`."""
    rationale = check_rationale(rationale)
    agent = _agent(author)
    git = memory.git
    branch = memory.settings.governed_branch
    base = git.branch_tip(branch)
    if base is None:
        raise StateError(f"the governed branch '{branch}' has no commits yet; commit the mindmem setup first")
    before = {path: git.read_file(base, path) for path in changes}
    effective = {path: data for path, data in changes.items() if before[path] != data}
    if not effective:
        raise BadInput(f"nothing to propose: the changes are already on {branch}")
    ch.check_worktree_changes(effective, memory.root)
    ids = ch.block_ids(effective, before)
    person = memory.person()
    who = agent or person.name
    title = " ".join((title or _default_title(effective, before, memory.root)).split())
    commit_author = Person(who, person.email) if agent else person
    tree = git.tree_with(base, effective)
    for _ in range(16):
        pid = _new_proposal_id(git)
        message = compose(title, rationale, {"Mm-Proposal": pid, "Mm-Author": who, "Mm-Blocks": ids})
        sha = git.create_commit(tree, [base], message, commit_author, person)
        try:
            git.update_ref(f"refs/heads/{PROPOSALS}{pid}", sha, None, f"mindmem: propose {pid}")
        except RefConflict:
            continue  # another writer drew the same ID in the same instant: draw again
        return _proposal_from(git, f"{PROPOSALS}{pid}", sha)
    raise StateError("could not create a proposal branch after 16 tries")


def propose_worktree(
    memory: Memory, *, rationale: str, title: str | None = None, author: str | None = None
) -> Proposal:
    """Move the uncommitted memory changes of the work tree onto a proposal, like a stash that becomes a branch.

    Memory is the memory root and `.mindmem/` (settings and approvers are governed like blocks).
    """
    git = memory.git
    branch = memory.settings.governed_branch
    if git.head_branch() != branch:
        raise StateError(
            f"the work tree is not on '{branch}' (HEAD: {git.head_branch() or 'detached'}); "
            "switch to it, or use --file / --add / --edit"
        )
    tip = git.branch_tip(branch)
    if tip is None:
        raise StateError(f"the governed branch '{branch}' has no commits yet; commit the mindmem setup first")
    # HEAD is the tip here, so only the paths git status reports can differ from it: read just those.
    changes: dict[str, bytes | None] = {}
    for path in git.worktree_changes(governed_folders(memory)):
        full = git.workdir / path
        # Like Memory.worktree_files: symlinks and files in dot-folders (editor state) are not memory.
        hidden = any(part.startswith(".") for part in path.split("/")[1:-1])
        data = full.read_bytes() if full.is_file() and not full.is_symlink() else None
        if not hidden and data != git.read_file(tip, path):
            changes[path] = data
    if not changes:
        raise BadInput(f"no uncommitted changes under {memory.root}/ or {CONFIG_DIR}/ to propose")
    proposal = propose(memory, changes, rationale=rationale, title=title, author=author)
    git.refresh_paths(tip, sorted(changes))
    return proposal


def inline_changes(memory: Memory, request: ch.InlineEdit, *, author: str | None = None) -> dict[str, bytes | None]:
    """The changes of `mm propose --add/--edit/--supersede/--revoke`, against the governed head."""
    return ch.inline_changes(
        request,
        root=memory.root,
        lookup=lambda block_id: block_at_head(memory, block_id),
        author=_agent(author) or memory.author(),
        when=now_utc(),
    )


def block_at_head(memory: Memory, block_id: str) -> Block | None:
    """One block on the governed branch, read by path (no full snapshot: this is on the propose hot path)."""
    tip = memory.git.branch_tip(memory.settings.governed_branch)
    if tip is None:
        return None
    path = f"{memory.root}/{id_relpath(block_id)}"
    data = memory.git.read_file(tip, path)
    return parse(data, path) if data is not None else None


def governed_folders(memory: Memory) -> tuple[str, str]:
    """What only changes through approvals: the memory root and the settings and approvers in `.mindmem/`."""
    return memory.root, CONFIG_DIR


# -- lookup ------------------------------------------------------------------------


def check_proposal_id(pid: str) -> str:
    if not PROPOSAL_RE.match(pid):
        raise BadInput(f"'{pid}' is not a proposal ID (P-YYYYMMDD-xxxxxx)")
    return pid


def open_proposal(memory: Memory, pid: str) -> Proposal:
    """An open proposal, or a clear error saying what became of it."""
    git = memory.git
    check_proposal_id(pid)
    head = git.branch_tip(f"{PROPOSALS}{pid}")
    if head is not None:
        return _proposal_from(git, f"{PROPOSALS}{pid}", head)
    if git.branch_tip(f"{REJECTED}{pid}") is not None:
        raise StateError(f"{pid} was rejected (see rejected/{pid}); propose again to revisit it")
    approval = find_approval(memory, pid)
    if approval is not None:
        raise StateError(f"{pid} is already approved in {approval.sha[:12]}")
    raise NotFound(f"no proposal {pid}")


def find_proposal(memory: Memory, pid: str) -> Proposal:
    """An open or rejected proposal."""
    check_proposal_id(pid)
    for prefix in (PROPOSALS, REJECTED):
        head = memory.git.branch_tip(prefix + pid)
        if head is not None:
            return _proposal_from(memory.git, prefix + pid, head)
    return open_proposal(memory, pid)


def find_approval(memory: Memory, pid: str) -> CommitInfo | None:
    tip = memory.git.branch_tip(memory.settings.governed_branch)
    if tip is None:
        return None
    for info in memory.git.walk(tip, first_parent=True):
        msg = parse_message(info.message)
        if msg.get("Mm-Decision") == "approved" and msg.get("Mm-Proposal") == pid:
            return info
    return None


def list_proposals(memory: Memory, *, include_rejected: bool = False) -> list[tuple[Proposal, bool]]:
    """Proposals, newest first, each with whether it still applies cleanly to the governed branch."""
    git = memory.git
    tip = git.branch_tip(memory.settings.governed_branch)
    found = []
    prefixes = (PROPOSALS, REJECTED) if include_rejected else (PROPOSALS,)
    for prefix in prefixes:
        for name, head in git.refs(prefix).items():
            proposal = _proposal_from(git, name, head)
            clean = proposal.state == "open" and tip is not None and _merged_tree(memory, proposal, tip)[1] == []
            found.append((proposal, clean))
    return sorted(found, key=lambda item: item[0].time, reverse=True)


def proposal_diff(memory: Memory, proposal: Proposal) -> list[ch.BlockDiff]:
    """What the proposal changes against its base, block by block and field by field."""
    return ch.diff_blocks(memory.git.changed_paths(proposal.base, proposal.commit, memory.root))


# -- approve / reject / rebase --------------------------------------------------------


def approve(
    memory: Memory,
    pid: str,
    *,
    rationale: str | None = None,
    keep_worktree: bool = False,
    override: bool = False,
) -> Approval:
    """Merge the proposal into the governed branch with a (signed) merge commit, by compare-and-swap.

    The checks run on the proposal first: in enforce mode a critical finding refuses, in propose
    mode it needs `override` and a rationale, in detect_only mode it is only recorded. The
    findings are written into the approval as `Mm-Check` trailers.
    """
    git = memory.git
    branch = memory.settings.governed_branch
    if override:
        check_rationale(rationale, "rationale for --override")
    proposal = open_proposal(memory, pid)
    tip = git.branch_tip(branch)
    if tip is None:
        raise StateError(f"the governed branch '{branch}' has no commits")
    if git.is_ancestor(proposal.head, tip):
        # A previous approve moved the branch but died before deleting the proposal ref, or a
        # concurrent approve just finished (then the ref is gone already, which is fine).
        with contextlib.suppress(RefConflict):
            git.delete_ref(proposal.branch, proposal.head)
        raise StateError(f"{pid} is already approved on {branch}; its proposal branch is removed")
    tree, clash = _merged_tree(memory, proposal, tip)
    if tree is None:
        raise StateError(
            f"{branch} changed {', '.join(clash)} since {pid} was proposed; "
            f"nothing was written. Run `mm rebase {pid}` to replay it on the new head"
        )
    decision = _gate(memory, pid, override)
    touched = sorted(git.changed_paths(proposal.base, proposal.commit))
    refresh = refresh_plan(memory, tip, touched, keep_worktree)
    signer = _signer(memory)
    person = memory.person()
    text = rationale.strip() if rationale else ""
    trailers: list[tuple[str, str | list[str]]] = [
        ("Mm-Decision", "approved"),
        ("Mm-Proposal", pid),
        ("Mm-Author", proposal.author),
        ("Mm-Approver", person.name),
        ("Mm-Blocks", list(proposal.blocks)),
    ]
    trailers += list(decision.trailers.items())
    message = compose(f"Approve {pid}: {proposal.title}", text, trailers)
    sha = git.create_commit(tree, [tip, proposal.head], message, person, sign=signer)
    _pause()
    # One locked move of both refs: a racing approve or reject of the same proposal cannot also win.
    git.move_refs(
        {f"refs/heads/{branch}": (tip, sha), f"refs/heads/{proposal.branch}": (proposal.head, None)},
        f"mindmem: approve {pid}",
    )
    note = None
    if refresh is None:
        note = f"the work tree is not on {branch}; it was left as it is"
    elif refresh is False:
        note = "the work tree has changes to the approved paths; it was left as it is (--keep-worktree)"
    else:
        git.refresh_paths(sha, touched)
    keep_in_step(memory)
    return Approval(proposal, sha, signer is not None, tuple(touched) if refresh else (), note, decision)


def reject(memory: Memory, pid: str, *, rationale: str) -> str:
    """Record the reason on the proposal branch (signed when a key is set up) and rename it rejected/P-…."""
    rationale = check_rationale(rationale)
    git = memory.git
    proposal = open_proposal(memory, pid)
    leftover = git.branch_tip(f"{REJECTED}{pid}")
    if leftover is not None and git.commit_info(leftover).parents[:1] == (proposal.head,):
        git.delete_ref(proposal.branch, proposal.head)  # an earlier reject died halfway
        return leftover
    person = memory.person()
    message = compose(
        f"Reject {pid}: {proposal.title}",
        rationale,
        {"Mm-Decision": "rejected", "Mm-Proposal": pid, "Mm-Rejecter": person.name},
    )
    tree = git.commit_info(proposal.head).tree
    sha = git.create_commit(tree, [proposal.head], message, person, sign=_signer(memory, required=False))
    git.move_refs(
        {f"refs/heads/{REJECTED}{pid}": (None, sha), f"refs/heads/{proposal.branch}": (proposal.head, None)},
        f"mindmem: reject {pid}",
    )
    return sha


def rebase(memory: Memory, pid: str) -> str:
    """Replay an open proposal on the current governed head when that merges cleanly."""
    git = memory.git
    proposal = open_proposal(memory, pid)
    tip = git.branch_tip(memory.settings.governed_branch)
    if tip is None or proposal.base == tip:
        raise BadInput(f"{pid} is already based on the head of {memory.settings.governed_branch}")
    tree, conflicts = git.merge_tree(proposal.base or tip, tip, proposal.commit)
    if tree is None:
        raise StateError(
            f"{pid} does not replay cleanly on the new head (conflicts in {', '.join(conflicts)}); "
            "propose the change again against the current memory"
        )
    merged = git.changed_paths(tip, tree, memory.root)
    ch.check_worktree_changes({p: new for p, (_, new) in merged.items()}, memory.root)
    info = git.commit_info(proposal.commit)
    sha = git.create_commit(tree, [tip], info.message, info.author, memory.person())
    git.update_ref(f"refs/heads/{proposal.branch}", sha, proposal.head, f"mindmem: rebase {pid}")
    return sha


# -- rollback ------------------------------------------------------------------------


def plan_rollback(memory: Memory, target: str) -> RollbackPlan:
    """Which commit a rollback reverts, the tree it leaves, the blocks it changes and what rests on them."""
    from mindmem import graph

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
    sha = git.create_commit(plan.tree, [plan.tip], message, person, sign=_signer(memory))
    git.update_ref(f"refs/heads/{branch}", sha, plan.tip, f"mindmem: roll back {plan.target[:12]}")
    if refresh:
        git.refresh_paths(sha, touched)
    keep_in_step(memory)
    return sha


# -- helpers -----------------------------------------------------------------------------


def _proposal_from(git: GitRepo, branch: str, head: str) -> Proposal:
    info = git.commit_info(head)
    msg = parse_message(info.message)
    state = "open"
    proposal_commit = info
    if msg.get("Mm-Decision") == "rejected":
        state = "rejected"
        proposal_commit = git.commit_info(info.parents[0])
        msg = parse_message(proposal_commit.message)
    pid = msg.get("Mm-Proposal") or branch.rsplit("/", 1)[-1]
    return Proposal(
        id=pid,
        state=state,
        branch=branch,
        head=head,
        commit=proposal_commit.sha,
        base=proposal_commit.parents[0] if proposal_commit.parents else None,
        title=msg.title,
        rationale=msg.body,
        author=msg.get("Mm-Author") or proposal_commit.author.name,
        blocks=tuple(msg.get_list("Mm-Blocks")),
        time=proposal_commit.time,
    )


def _merged_tree(memory: Memory, proposal: Proposal, tip: str) -> tuple[str | None, list[str]]:
    """The tree approving would write, or (None, blocks both sides changed since the proposal's base)."""
    git = memory.git
    if proposal.base == tip:
        return git.commit_info(proposal.commit).tree, []
    base = proposal.base or tip
    mine = git.changed_paths(base, proposal.commit)
    theirs = git.changed_paths(base, tip)
    clash = sorted(set(mine) & set(theirs))
    if clash:
        return None, [p.rsplit("/", 1)[-1].removesuffix(".md") for p in clash]
    tree, conflicts = git.merge_tree(base, tip, proposal.commit)
    return tree, conflicts


def _gate(memory: Memory, pid: str, override: bool) -> GateDecision:
    """Run the checks on the proposal merged into the governed branch; refuse per the mode."""
    from mindmem.checks import context_for, gate, run_checks

    decision = gate(run_checks(context_for(memory, proposal=pid)), memory.settings.mode, override)
    if not decision.allowed:
        listed = "; ".join(f"{f.code} {', '.join(f.blocks)}: {f.message}" for f in decision.blocking[:5])
        raise CheckFailed(f"{pid} not approved: {decision.message}. {listed}")
    return decision


def refresh_plan(memory: Memory, tip: str, paths: list[str], keep_worktree: bool) -> bool | None:
    """True: refresh these paths after the ref moves; False: leave them (asked to); None: not on the branch."""
    git = memory.git
    if git.raw.is_bare or git.head_branch() != memory.settings.governed_branch:
        return None
    dirty = []
    for path in paths:
        at_tip = git.read_file(tip, path)
        data, staged = git.worktree_state(path)
        if data != at_tip or staged != (git.blob_sha(at_tip) if at_tip is not None else None):
            dirty.append(path)
    if dirty and not keep_worktree:
        raise StateError(
            f"uncommitted changes to {', '.join(dirty)} would be overwritten; nothing was written. "
            "Commit, propose or stash them first, or pass --keep-worktree"
        )
    return not dirty


def _signer(memory: Memory, *, required: bool | None = None) -> Callable[[bytes], str] | None:
    """How to sign governance commits; in enforce mode a key of an allowed signer is required."""
    from mindmem import signing

    must = memory.settings.mode == "enforce" if required is None else required
    key = signing.signing_key(memory.git, memory.env)
    if key is None:
        if must:
            raise StateError(
                "enforce mode needs signed approvals, but no signing key is set up "
                "(git config user.signingkey, or signing_key in the mindmem user config)"
            )
        return None
    if must:
        # The approvers on the governed branch count, not the work tree: editing the file grants nothing.
        tip = memory.git.branch_tip(memory.settings.governed_branch)
        listed = (memory.git.read_file(tip, ALLOWED_SIGNERS) or b"", memory.git.read_file(tip, ALLOWED_GPG) or b"")
        if tip is None or signing.key_principal(key, *listed) is None:
            raise StateError(
                f"the signing key {key.key} is not an approver in {ALLOWED_SIGNERS} on "
                f"{memory.settings.governed_branch}; nothing was written"
            )
    return lambda payload: signing.sign(key, payload)


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


def _default_title(changes: Mapping[str, bytes | None], before: Mapping[str, bytes | None], root: str) -> str:
    diffs = ch.diff_blocks({p: (before.get(p), d) for p, d in changes.items()})
    verbs = {"added": "Add", "changed": "Update", "removed": "Remove"}
    if len(diffs) == 1:
        return f"{verbs[diffs[0].action]} {diffs[0].block_id}: {diffs[0].title}"
    if not diffs:
        return f"Change files under {root}/"
    actions = {d.action for d in diffs}
    verb = verbs[actions.pop()] if len(actions) == 1 else "Change"
    title = f"{verb} {len(diffs)} blocks: " + "; ".join(d.title for d in diffs)
    return title if len(title) <= 100 else title[:99].rsplit(" ", 1)[0] + "…"


def _agent(author: str | None) -> str | None:
    if author is None:
        return None
    if not re.match(r"^agent:[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", author):
        raise BadInput(f"--as expects agent:NAME (letters, digits, . _ -), got {author!r}")
    return author


def _new_proposal_id(git: GitRepo) -> str:
    day = now_utc().strftime("%Y%m%d")
    while True:
        pid = f"P-{day}-{os.urandom(3).hex()}"
        if git.branch_tip(PROPOSALS + pid) is None and git.branch_tip(REJECTED + pid) is None:
            return pid


def _pause() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if not marker:
        return
    Path(marker).write_text(str(os.getpid()))
    while Path(marker).exists():
        time.sleep(0.02)
