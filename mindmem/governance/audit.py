"""Reading the governance chain back: `mm audit` and `mm log ID`.

Git holds the record; this module only classifies commits by their `Mm-*`
trailers and checks each signature against `.mindmem/allowed_signers`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mindmem.errors import BadInput
from mindmem.governance import signing
from mindmem.governance.proposals import PROPOSALS, REJECTED, format_time_s
from mindmem.governance.proposing import governed_folders
from mindmem.governance.trailers import parse_message
from mindmem.store.allowed_signers import ALLOWED_GPG, ALLOWED_SIGNERS
from mindmem.store.blocks import check_id, id_relpath
from mindmem.store.config import CONFIG_FILE
from mindmem.store.git.values import CommitInfo
from mindmem.store.memory import Memory

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo

GOVERNED_DECISIONS = ("approved", "rolled-back")


@dataclass(frozen=True)
class Event:
    """One step of the chain: proposed, approved, rejected, rolled-back, init (the commit that set
    mindmem up), or a direct (ungoverned) change."""

    kind: str
    sha: str
    time: int
    actor: str
    proposal: str | None
    title: str
    rationale: str
    blocks: tuple[str, ...]
    signature: str  # good | bad | unknown-signer | unsigned
    signer: str | None
    via: str | None = None  # an agent that approved through a grant

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "sha": self.sha,
            "time": format_time_s(self.time),
            "actor": self.actor,
            "proposal": self.proposal,
            "title": self.title,
            "rationale": self.rationale,
            "blocks": list(self.blocks),
            "signature": self.signature,
            "signer": self.signer,
            "via": self.via,
        }


class Judge:
    """Signature checks against the approvers committed just before each commit (its first parent).

    So an approval is judged by who was an approver when it was made, and an edit of the
    approver files in the work tree (or in the same commit) grants nothing.
    """

    def __init__(self, memory: Memory) -> None:
        self.git = memory.git
        self._lists: dict[str | None, tuple[bytes, dict[str, str]]] = {}

    def __call__(self, sha: str) -> signing.Verification:
        parents = self.git.commit_info(sha).parents
        allowed, gpg = self._approvers(parents[0] if parents else None)
        return signing.verify_commit(self.git, sha, allowed, gpg_allowed=gpg)

    def has_approvers(self, commit: str) -> bool:
        """Whether anyone at all was listed as an approver at `commit`."""
        ssh, gpg = self._approvers(commit)
        return bool(gpg) or bool(signing.read_allowed_signers(ssh, any_time=True))

    def _approvers(self, commit: str | None) -> tuple[bytes, dict[str, str]]:
        if commit not in self._lists:
            ssh = self.git.read_file(commit, ALLOWED_SIGNERS) if commit else None
            gpg = self.git.read_file(commit, ALLOWED_GPG) if commit else None
            self._lists[commit] = (ssh or b"", signing.parse_allowed_gpg(gpg or b""))
        return self._lists[commit]


def audit(memory: Memory, *, since: str | None = None) -> list[Event]:
    """The governance chain, newest first: every proposal, approval, rejection, rollback and direct change."""
    git = memory.git
    judge = Judge(memory)
    stop, cutoff = _since(memory, since)
    events: list[Event] = []
    tip = git.branch_tip(memory.settings.governed_branch)
    if tip is not None:
        for info in git.walk(tip, first_parent=True):
            if info.sha == stop:
                break
            if cutoff is not None and info.time < cutoff:
                break
            msg = parse_message(info.message)
            decision = msg.get("Mm-Decision")
            if decision in GOVERNED_DECISIONS:
                events.append(_event(info, decision, judge))
                if decision == "approved" and len(info.parents) > 1:
                    events.append(_proposed(git.commit_info(_proposal_commit(git, info.parents[1])), judge))
            elif _touches(memory, info):
                events.append(_event(info, "init" if _opens_governance(memory, info) else "direct", judge))
    for prefix in (PROPOSALS, REJECTED):
        for head in git.refs(prefix).values():
            info = git.commit_info(head)
            if parse_message(info.message).get("Mm-Decision") == "rejected":
                events.append(_event(info, "rejected", judge))
                info = git.commit_info(info.parents[0])
            events.append(_proposed(info, judge))
    if cutoff is not None:
        events = [e for e in events if e.time >= cutoff]
    return sorted(events, key=lambda e: e.time, reverse=True)


def block_log(memory: Memory, block_id: str) -> list[Event]:
    """Every proposal, approval, rollback, rejection and direct commit that changed one block, newest first."""
    check_id(block_id)
    git = memory.git
    judge = Judge(memory)
    path = f"{memory.root}/{id_relpath(block_id)}"
    events: dict[str, Event] = {}
    heads = [git.branch_tip(memory.settings.governed_branch)]
    heads += list(git.refs(PROPOSALS).values()) + list(git.refs(REJECTED).values())
    for head in filter(None, heads):
        for info in git.walk(head):
            if info.sha in events:
                continue
            parent = info.parents[0] if info.parents else None
            before = git.read_file(parent, path) if parent else None
            msg = parse_message(info.message)
            decision = msg.get("Mm-Decision")
            if decision == "rejected":
                proposal = git.commit_info(info.parents[0])
                if _changes(git, proposal, path):
                    events[info.sha] = _event(info, "rejected", judge)
                continue
            if before == git.read_file(info.sha, path):
                continue
            if decision in GOVERNED_DECISIONS:
                events[info.sha] = _event(info, decision, judge)
            elif msg.get("Mm-Proposal"):
                events[info.sha] = _proposed(info, judge)
            else:
                events[info.sha] = _event(info, "direct", judge)
    if not events:
        raise BadInput(f"no history for {block_id}: no commit, proposal or rejection touched {path}")
    return sorted(events.values(), key=lambda e: e.time, reverse=True)


def _changes(git: GitRepo, info: CommitInfo, path: str) -> bool:
    parent = info.parents[0] if info.parents else None
    before = git.read_file(parent, path) if parent else None
    return before != git.read_file(info.sha, path)


def _touches(memory: Memory, info: CommitInfo) -> bool:
    parent = info.parents[0] if info.parents else None
    return any(memory.git.changed_paths(parent, info.sha, folder) for folder in governed_folders(memory))


def _opens_governance(memory: Memory, info: CommitInfo) -> bool:
    parent = info.parents[0] if info.parents else None
    return memory.git.read_file(info.sha, CONFIG_FILE) is not None and (
        parent is None or memory.git.read_file(parent, CONFIG_FILE) is None
    )


def _proposal_commit(git: GitRepo, head: str) -> str:
    """The proposal commit behind a merged head (itself, unless a rejection sits on top)."""
    info = git.commit_info(head)
    if parse_message(info.message).get("Mm-Decision") == "rejected" and info.parents:
        return info.parents[0]
    return head


def _event(info: CommitInfo, kind: str, judge: Judge) -> Event:
    msg = parse_message(info.message)
    actor = {
        "approved": msg.get("Mm-Approver"),
        "rolled-back": msg.get("Mm-Approver"),
        "rejected": msg.get("Mm-Rejecter"),
    }.get(kind)
    verdict = judge(info.sha)
    return Event(
        kind=kind,
        sha=info.sha,
        time=info.time,
        actor=actor or info.author.name,
        proposal=msg.get("Mm-Proposal"),
        title=msg.title,
        rationale=msg.body,
        blocks=tuple(msg.get_list("Mm-Blocks")),
        signature=verdict.status,
        signer=verdict.principal,
        via=msg.get("Mm-Approved-Via"),
    )


def _proposed(info: CommitInfo, judge: Judge) -> Event:
    event = _event(info, "proposed", judge)
    return replace(event, actor=parse_message(info.message).get("Mm-Author") or event.actor)


def _since(memory: Memory, since: str | None) -> tuple[str | None, int | None]:
    """`--since` as a revision (stop there) or a date (stop before it)."""
    if not since:
        return None, None
    try:
        when = datetime.fromisoformat(since)
    except ValueError:
        return memory.git.resolve(since), None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return None, int(when.timestamp())
