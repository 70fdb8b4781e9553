"""Governance: proposals, approvals, rejections, rollbacks, and reading the chain back.

proposing.py   propose, amend and the work-tree stash that becomes a branch
proposals.py   proposals as branches: find, list, read what they change
candidates.py  what approving would write, worked out once (and handed to the checks)
approving.py   approve, reject, rebase; the signer verify will accept
rollbacks.py   signed reverts
audit.py       the chain read back: audit, a block's log, signature verdicts
verify.py      the chain judged from its genesis by the rules committed before each commit

The names below are loaded from their module on first use: the git hooks import
`governance.hooks` on every commit, and loading approvals with it (and the checks they
run) cost them some 140 ms. No module is named like a function it exports, so a
loaded submodule never hides one (`governance.approve` is always the function).
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "approving": ("Approval", "approve", "checks_for", "merge_for_checks", "rebase", "refresh_plan", "reject"),
    "candidates": ("Candidate", "GovernanceChange", "candidate", "proposal_state"),
    "proposals": (
        "PROPOSAL_RE",
        "PROPOSALS",
        "REJECTED",
        "Proposal",
        "check_proposal_id",
        "find_approval",
        "find_proposal",
        "format_time_s",
        "list_proposals",
        "open_proposal",
        "proposal_changes",
        "proposal_diff",
    ),
    "proposing": (
        "block_at_head",
        "governed_folders",
        "inline_changes",
        "propose",
        "propose_worktree",
        "refuse_secrets",
    ),
    "rollbacks": ("RollbackPlan", "plan_rollback", "rollback"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_HOME_OF)


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # found directly from now on
    return value
