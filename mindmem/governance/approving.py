"""Approve, reject and rebase proposals as git commits.

Everything is written as git objects with pygit2 (through repo.py); refs move by
compare-and-swap from the value read at the start, so two racing writers never
lose each other's work. Approve never writes what `mm verify` would reject.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mindmem.errors import BadInput, CheckFailed, RefConflict, StateError
from mindmem.governance.candidates import Candidate, candidate
from mindmem.governance.proposals import REJECTED, Proposal, find_proposal, open_proposal
from mindmem.governance.trailers import check_rationale, compose
from mindmem.search.index_state import keep_in_step
from mindmem.store.allowed_signers import ALLOWED_GPG, ALLOWED_SIGNERS
from mindmem.store.memory import Memory
from mindmem.store.snapshot import is_block_path

if TYPE_CHECKING:
    from mindmem.checks import Finding, GateDecision, Merge

SIGNING_HELP = (
    "set up ssh signing: `ssh-keygen -t ed25519 -f ~/.ssh/mm_signing`, "
    "`git config user.signingkey ~/.ssh/mm_signing.pub`, `git config gpg.format ssh`, "
    "then list your key as an approver (`mm signers add`, then `mm propose`) and have an approver approve that"
)


@dataclass(frozen=True)
class Approval:
    proposal: Proposal
    commit: str
    signed: bool
    refreshed: tuple[str, ...]
    note: str | None
    checks: GateDecision
    via: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The same keys from `mm approve --json` and the MCP approve phase."""
        checks = self.checks
        return {
            "proposal": self.proposal.id,
            "commit": self.commit,
            "signed": self.signed,
            "refreshed": list(self.refreshed),
            "note": self.note,
            "via": self.via,
            "checks": {"message": checks.message, "overridden": checks.overridden, "trailers": dict(checks.trailers)},
        }


def approve(
    memory: Memory,
    pid: str,
    *,
    rationale: str | None = None,
    keep_worktree: bool = False,
    override: bool = False,
    via: str | None = None,
    before_ref_move: Callable[[], None] | None = None,
) -> Approval:
    """Merge the proposal into the governed branch with a (signed) merge commit, by compare-and-swap.

    The checks run on the merged tree first: in enforce mode a critical finding refuses, in propose
    mode it needs `override` and a rationale, in detect_only mode it is only recorded; the findings
    are written into the approval as `Mm-Check` trailers. Files outside memory, an empty change and
    a signature that verify would not accept refuse in every mode but detect_only. `via` records an
    agent that approved through a grant (`Mm-Approved-Via`).
    """
    git = memory.git
    branch = memory.settings.governed_branch
    if override:
        check_rationale(rationale, "rationale for an override")
    proposal = open_proposal(memory, pid)
    tip = git.branch_tip(branch)
    if tip is not None and git.is_ancestor(proposal.head, tip):
        # A previous approve moved the branch but died before deleting the proposal ref, or a
        # concurrent approve just finished (then the ref is gone already, which is fine).
        with contextlib.suppress(RefConflict):
            git.delete_ref(proposal.branch, proposal.head)
        raise StateError(f"{pid} is already approved on {branch}; its proposal branch is removed")
    cand = candidate(memory, proposal, tip)
    if cand.tree is None:
        raise StateError(
            f"{branch} changed {', '.join(cand.clash)} since {pid} was proposed; "
            f"nothing was written. Run `mm rebase {pid}` to replay it on the new head"
        )
    strict = memory.settings.mode != "detect_only"
    if cand.empty:
        raise BadInput(f"{pid} changes nothing on {branch}; nothing was written. Reject it: mm reject {pid} -r WHY")
    if cand.outside and strict:
        raise CheckFailed(
            f"{pid} changes files outside memory ({', '.join(cand.outside[:5])}); nothing was written. "
            "A proposal may change only the memory root and .mindmem/"
        )
    decision = _gate(memory, cand, override)
    touched = sorted(cand.changed)
    refresh_plan(memory, cand.tip, touched, keep_worktree, staged=False)  # refuse before asking for a signature
    sha, signed = _sign_approval(memory, cand, decision, rationale, via)
    if before_ref_move is not None:
        before_ref_move()
    # A work-tree propose between the ref move and the refresh would see the approved files as
    # deleted and propose their removal: the check, the move and the refresh hold its lock.
    with git.locked("worktree"):
        refresh = refresh_plan(memory, cand.tip, touched, keep_worktree)
        git.move_refs(
            {f"refs/heads/{branch}": (cand.tip, sha), f"refs/heads/{proposal.branch}": (proposal.head, None)},
            f"mindmem: approve {pid}",
        )
        # The search index catches up in this process while git rewrites its own index on the other core.
        with git.refreshing(sha, touched) if refresh else contextlib.nullcontext():
            keep_in_step(memory)
    note = None
    if refresh is None:
        note = f"the work tree is not on {branch}; it was left as it is"
    elif refresh is False:
        note = "the work tree has changes to the approved paths; it was left as it is (keep_worktree)"
    return Approval(proposal, sha, signed, tuple(touched) if refresh else (), note, decision, via)


def _sign_approval(
    memory: Memory, cand: Candidate, decision: GateDecision, rationale: str | None, via: str | None
) -> tuple[str, bool]:
    """The (signed) merge commit, written as an object; no ref moves yet."""
    git = memory.git
    proposal = cand.proposal
    signer = approval_signer(memory, governance=any(p.startswith(".mindmem/") for p in cand.changed))
    person = memory.person()
    trailers: list[tuple[str, str | list[str]]] = [
        ("Mm-Decision", "approved"),
        ("Mm-Proposal", proposal.id),
        ("Mm-Author", proposal.author),
        ("Mm-Approver", person.name),
        ("Mm-Blocks", list(proposal.blocks)),
    ]
    if via:
        trailers.append(("Mm-Approved-Via", via))
    trailers += list(decision.trailers.items())
    message = compose(f"Approve {proposal.id}: {proposal.title}", rationale.strip() if rationale else "", trailers)
    assert cand.tree is not None
    sha = git.create_commit(cand.tree, [cand.tip, proposal.head], message, person, sign=signer)
    return sha, signer is not None


def merge_for_checks(cand: Candidate) -> Merge:
    """What the checks look at for a proposal: its changes, in the tree approving it would write."""
    from mindmem.checks import Merge

    p = cand.proposal
    return Merge(f"proposal {p.id}", p.base, p.commit, cand.tree or p.commit)


def checks_for(memory: Memory, pid: str) -> tuple[Merge, list[Finding]]:
    """What `mm check --proposal P`, review and MCP propose check: the merge, and the findings on the
    proposal as a whole (files outside memory, claimed authors, governance changes)."""
    cand = candidate(memory, find_proposal(memory, pid))
    return merge_for_checks(cand), cand.findings


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
    """Replay an open proposal (all its commits, as one) on the current governed head.

    Every path the proposal changes keeps the proposal's content, or nothing is written and
    the paths it cannot keep are named.
    """
    from mindmem.store import changes as ch

    git = memory.git
    proposal = open_proposal(memory, pid)
    tip = git.branch_tip(memory.settings.governed_branch)
    if tip is None or proposal.base == tip:
        raise BadInput(f"{pid} is already based on the head of {memory.settings.governed_branch}")
    assert proposal.base is not None
    tree, conflicts = git.merge_tree(proposal.base, tip, proposal.commit)
    if tree is None:
        raise StateError(
            f"{pid} does not replay cleanly on the new head (conflicts in {', '.join(conflicts)}); "
            "propose the change again against the current memory"
        )
    # A clean three-way merge keeps every change; what must never happen is a change that silently vanishes.
    lost = sorted(
        path
        for path, (old, new) in git.changed_paths(proposal.base, proposal.commit).items()
        if git.read_file(tree, path) != new and git.read_file(tree, path) in (old, git.read_file(tip, path))
    )
    if lost:
        raise StateError(f"{pid} cannot keep its changes to {', '.join(lost)} on the new head; nothing was written")
    if tree == git.commit_info(tip).tree:
        raise StateError(f"{pid} changes nothing on the new head (it is already there); reject it: mm reject {pid}")
    merged = git.changed_paths(tip, tree, memory.root)
    ch.check_worktree_changes({p: new for p, (_, new) in merged.items()}, memory.root)
    first = git.commit_info(proposal.commits[0])
    sha = git.create_commit(tree, [tip], first.message, first.author, memory.person())
    git.update_ref(f"refs/heads/{proposal.branch}", sha, proposal.head, f"mindmem: rebase {pid}")
    return sha


# -- helpers -----------------------------------------------------------------------------


def _gate(memory: Memory, cand: Candidate, override: bool) -> GateDecision:
    """Run the checks on the merged tree, add the proposal's own findings, and refuse per the mode."""
    from mindmem.checks import context_for, gate, run_checks
    from mindmem.checks.findings import sort_key

    found = run_checks(context_for(memory, proposal=merge_for_checks(cand))) + cand.findings
    findings = sorted(_with_a_fresh_scan(found, cand, memory.root), key=sort_key)
    decision = gate(findings, memory.settings.mode, override)
    if not decision.allowed:
        listed = "; ".join(f"{f.code} {', '.join(f.blocks)}: {f.message}" for f in decision.blocking[:5])
        raise CheckFailed(f"{cand.proposal.id} not approved: {decision.message}. {listed}")
    return decision


def _with_a_fresh_scan(findings: list[Finding], cand: Candidate, root: str) -> list[Finding]:
    """`findings` plus the safety findings of the very bytes approving merges. The checks take what they
    know of a text they saw before from stores in the git dir (digests, parsed blocks), and whoever can
    write the work tree can write those: a planted entry must not wave a secret through the gate."""
    from mindmem.checks.safety import findings_in

    seen = {(f.code, f.path, f.line, f.message) for f in findings}
    out = list(findings)
    for path, (_old, new) in sorted(cand.changed.items()):
        if new is None or not path.startswith(root + "/") or not is_block_path(path):
            continue
        fresh = findings_in(path, new.decode("utf-8", "replace"))
        out += [f for f in fresh if (f.code, f.path, f.line, f.message) not in seen]
    return out


def refresh_plan(
    memory: Memory, tip: str, paths: list[str], keep_worktree: bool, *, staged: bool = True
) -> bool | None:
    """True: refresh these paths after the ref moves; False: leave them (asked to); None: not on the branch.

    A path is dirty when its file or (`staged`) its index entry differs from `tip`. Approve looks at the
    files alone for its early refusal, before asking for a signature, and at both under the lock."""
    git = memory.git
    if git.is_bare or git.head_branch() != memory.settings.governed_branch:
        return None
    index = git.staged_blobs(paths) if staged else None
    dirty = []
    for path in paths:
        at_tip = git.read_file(tip, path)
        if git.worktree_file(path) != at_tip or (
            index is not None and index.get(path) != (git.blob_sha(at_tip) if at_tip is not None else None)
        ):
            dirty.append(path)
    if dirty and not keep_worktree:
        raise StateError(
            f"uncommitted changes to {', '.join(dirty)} would be overwritten; nothing was written. "
            "Commit, propose or stash them first, or pass --keep-worktree"
        )
    return not dirty


def approval_signer(memory: Memory, *, governance: bool) -> Callable[[bytes], str] | None:
    """How to sign an approval so that `mm verify` accepts it, or refuse before anything is written.

    enforce mode, and a change to `.mindmem/` in propose mode once anyone is listed as an approver,
    need a key of an approver listed on the governed branch; other approvals in propose mode are
    signed when a key is set up. (With no approver listed, propose mode has no one to ask.)
    """
    from mindmem.governance.audit import Judge

    mode = memory.settings.mode
    tip = memory.git.branch_tip(memory.settings.governed_branch)
    guarded = governance and mode == "propose" and tip is not None and Judge(memory).has_approvers(tip)
    return _signer(memory, required=mode == "enforce" or guarded)


def _signer(memory: Memory, *, required: bool) -> Callable[[bytes], str] | None:
    from mindmem.governance import signing

    key = signing.signing_key(memory.git, memory.env)
    why = "this approval must be signed by an approver (enforce mode, or a change to .mindmem/)"
    if key is None:
        if required:
            raise StateError(f"{why}, but no signing key is set up; nothing was written. To fix it, {SIGNING_HELP}")
        return None
    if required:
        # The approvers on the governed branch count, not the work tree: editing the file grants nothing.
        tip = memory.git.branch_tip(memory.settings.governed_branch)
        listed = (memory.git.read_file(tip, ALLOWED_SIGNERS) or b"", memory.git.read_file(tip, ALLOWED_GPG) or b"")
        if tip is None or signing.key_principal(key, *listed) is None:
            raise StateError(
                f"{why}, but the signing key {key.key} is not an approver in {ALLOWED_SIGNERS} on "
                f"{memory.settings.governed_branch}; nothing was written"
            )
    return lambda payload: signing.sign(key, payload)
