"""What approving a proposal would write, worked out once and handed to the checks.

A `Candidate` holds the proposal, the governed tip, the merged tree, every path the
proposal changes (inside memory or not), what it changes in the governance settings,
field by field, and the findings that belong to the proposal as a whole.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mindmem.checks.findings import Finding
from mindmem.errors import StateError
from mindmem.governance.proposals import Proposal
from mindmem.store.allowed_signers import ALLOWED_GPG, ALLOWED_SIGNERS
from mindmem.store.config import CONFIG_DIR, CONFIG_FILE
from mindmem.store.memory import Memory
from mindmem.store.snapshot import id_of_path

Changed = Mapping[str, tuple[bytes | None, bytes | None]]


@dataclass(frozen=True)
class GovernanceChange:
    """One change to who may do what: an approver added or removed, a setting or a grant changed."""

    kind: str  # approver-added | approver-removed | setting | file
    path: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "detail": self.detail}


@dataclass(frozen=True)
class Candidate:
    proposal: Proposal
    tip: str
    tree: str | None  # None: it does not merge (see `clash`)
    clash: tuple[str, ...]
    changed: Changed  # every path, base -> proposal head
    outside: tuple[str, ...]  # changed paths outside the memory root and .mindmem/
    governance: tuple[GovernanceChange, ...]
    empty: bool  # approving would change nothing on the governed branch

    @property
    def findings(self) -> list[Finding]:
        """Findings on the proposal as a whole, for review and the approve gate."""
        pid = self.proposal.id
        out = [
            Finding(
                "MM-P001",
                "critical",
                f"{pid} changes {path}, outside the memory root and {CONFIG_DIR}/; proposals may change memory only",
                path=path,
                fix="move the change to a pull request of its own; approve never merges it",
            )
            for path in self.outside
        ]
        out += [
            Finding(
                "MM-P002",
                "warning",
                f"commit {sha[:12]} claims Mm-Author '{claimed}' but git's author is '{actual}'; "
                f"the approval records '{actual}'",
            )
            for sha, claimed, actual in self.proposal.claims
        ]
        out += [Finding("MM-P003", "info", f"governance change: {c.detail}", path=c.path) for c in self.governance]
        if self.empty:
            out.append(Finding("MM-P004", "critical", f"{pid} changes nothing on the governed branch"))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "paths": sorted(self.changed),
            "outside_memory": list(self.outside),
            "governance": [c.to_json() for c in self.governance],
        }


def candidate(memory: Memory, proposal: Proposal, tip: str | None = None) -> Candidate:
    """Merge base, tip, merged tree and changed paths of approving `proposal` onto `tip` (default: now).

    Approve passes the tip it read once, so every step judges the same governed branch.
    """
    git = memory.git
    branch = memory.settings.governed_branch
    tip = tip or git.branch_tip(branch)
    if tip is None:
        raise StateError(f"the governed branch '{branch}' has no commits")
    if proposal.base is None:
        raise StateError(f"{proposal.id} shares no history with {branch}; it cannot be approved")
    changed = git.changed_paths(proposal.base, proposal.commit)
    tree, clash = _merged_tree(memory, proposal, tip, changed)
    inside = (memory.root + "/", CONFIG_DIR + "/")
    return Candidate(
        proposal=proposal,
        tip=tip,
        tree=tree,
        clash=tuple(clash),
        changed=changed,
        outside=tuple(sorted(p for p in changed if not p.startswith(inside))),
        governance=tuple(governance_changes(changed)),
        empty=tree is not None and tree == git.commit_info(tip).tree,
    )


def _merged_tree(memory: Memory, proposal: Proposal, tip: str, mine: Changed) -> tuple[str | None, list[str]]:
    """The tree approving would write, or (None, blocks both sides changed since the proposal's base)."""
    git = memory.git
    assert proposal.base is not None
    if proposal.base == tip:
        return git.commit_info(proposal.commit).tree, []
    theirs = git.changed_names(proposal.base, tip)
    clash = sorted(set(mine) & set(theirs))
    if clash:
        return None, [id_of_path(p) for p in clash]
    return git.merge_tree(proposal.base, tip, proposal.commit)


# -- governance changes, field by field -----------------------------------------------------


def governance_changes(changed: Changed) -> list[GovernanceChange]:
    out: list[GovernanceChange] = []
    for path in sorted(p for p in changed if p.startswith(CONFIG_DIR + "/")):
        old, new = changed[path]
        if path == CONFIG_FILE:
            out += _setting_changes(old, new)
        elif path == ALLOWED_SIGNERS:
            out += _approver_changes(path, _ssh_approvers(old), _ssh_approvers(new))
        elif path == ALLOWED_GPG:
            out += _approver_changes(path, _gpg_approvers(old), _gpg_approvers(new))
        elif not path.startswith(f"{CONFIG_DIR}/templates/"):
            verb = "added" if old is None else "removed" if new is None else "changed"
            out.append(GovernanceChange("file", path, f"{path} {verb}"))
    return out


def _setting_changes(old: bytes | None, new: bytes | None) -> list[GovernanceChange]:
    if new is None:
        return [GovernanceChange("setting", CONFIG_FILE, f"{CONFIG_FILE} removed")]
    before, after = _flat_toml(old), _flat_toml(new)
    if after is None:
        return [GovernanceChange("setting", CONFIG_FILE, f"{CONFIG_FILE} does not parse as TOML")]
    before = before or {}
    return [
        GovernanceChange(
            "setting", CONFIG_FILE, f"{key}: {before.get(key, '(unset)')!s} -> {after.get(key, '(unset)')!s}"
        )
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]


def _flat_toml(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return {}
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            flat[prefix] = value

    walk("", table)
    return flat


def _approver_changes(path: str, old: set[tuple[str, str]], new: set[tuple[str, str]]) -> list[GovernanceChange]:
    out = [GovernanceChange("approver-added", path, f"approver added: {who} ({key})") for who, key in sorted(new - old)]
    out += [
        GovernanceChange("approver-removed", path, f"approver removed: {who} ({key})") for who, key in sorted(old - new)
    ]
    return out


def _ssh_approvers(data: bytes | None) -> set[tuple[str, str]]:
    from mindmem.store.allowed_signers import Approver, read_allowed_signers

    # Every line, whatever its validity window: a reviewer must see a key that only becomes valid later.
    listed = read_allowed_signers(data or b"", any_time=True)
    return {
        (name, f"{pub.split()[0]} {Approver(name, 'ssh', pub).fingerprint}") for names, pub in listed for name in names
    }


def _gpg_approvers(data: bytes | None) -> set[tuple[str, str]]:
    from mindmem.errors import ConfigError
    from mindmem.store.allowed_signers import parse_allowed_gpg

    try:
        return {(who, f"gpg {fpr}") for fpr, who in parse_allowed_gpg(data or b"").items()}
    except ConfigError as exc:
        return {("(unparsable line)", str(exc))}


def proposal_state(memory: Memory, proposal: Proposal) -> str:
    """One word or two for `mm proposals`: rejected, needs rebase, empty, outside memory, merges cleanly."""
    if proposal.state != "open":
        return proposal.state
    try:
        cand = candidate(memory, proposal)
    except StateError:
        return "unrelated history"
    if cand.tree is None:
        return "needs rebase"
    if cand.empty:
        return "empty"
    return "outside memory" if cand.outside else "merges cleanly"
