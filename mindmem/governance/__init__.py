"""Governance: proposals, approvals, rejections, rollbacks, and reading the chain back.

propose.py     propose, amend and the work-tree stash that becomes a branch
proposals.py   proposals as branches: find, list, read what they change
candidate.py   what approving would write, worked out once (and handed to the checks)
approve.py     approve, reject, rebase; the signer verify will accept
rollback.py    signed reverts
audit.py       the chain read back: audit, a block's log, signature verdicts
verify.py      the chain judged from its genesis by the rules committed before each commit
"""

from mindmem.governance.approve import Approval, approve, checks_for, merge_for_checks, rebase, refresh_plan, reject
from mindmem.governance.candidate import Candidate, GovernanceChange, candidate, proposal_state
from mindmem.governance.proposals import (
    PROPOSAL_RE,
    PROPOSALS,
    REJECTED,
    Proposal,
    check_proposal_id,
    find_approval,
    find_proposal,
    format_time_s,
    list_proposals,
    open_proposal,
    proposal_changes,
    proposal_diff,
)
from mindmem.governance.propose import (
    block_at_head,
    governed_folders,
    inline_changes,
    propose,
    propose_worktree,
    refuse_secrets,
)
from mindmem.governance.rollback import RollbackPlan, plan_rollback, rollback

__all__ = [
    "PROPOSALS",
    "PROPOSAL_RE",
    "REJECTED",
    "Approval",
    "Candidate",
    "GovernanceChange",
    "Proposal",
    "RollbackPlan",
    "approve",
    "block_at_head",
    "candidate",
    "check_proposal_id",
    "checks_for",
    "find_approval",
    "find_proposal",
    "format_time_s",
    "governed_folders",
    "inline_changes",
    "list_proposals",
    "merge_for_checks",
    "open_proposal",
    "plan_rollback",
    "proposal_changes",
    "proposal_diff",
    "proposal_state",
    "propose",
    "propose_worktree",
    "rebase",
    "refresh_plan",
    "refuse_secrets",
    "reject",
    "rollback",
]
