"""`mm check --proposal P --fix`: the findings' edits written into the proposal's last commit.

Never onto the governed branch; the branch moves by compare-and-swap.
"""

from __future__ import annotations

from collections.abc import Iterable

from mindmem.checks.findings import Finding
from mindmem.checks.fix import FixResult, apply_to_block, edits_of
from mindmem.errors import BadInput, BlockError, StateError
from mindmem.governance.proposals import open_proposal
from mindmem.governance.trailers import compose, parse_message
from mindmem.store.blocks import parse, render
from mindmem.store.memory import Memory


def fix_proposal(memory: Memory, pid: str, findings: Iterable[Finding], paths: dict[str, str]) -> FixResult:
    """Write the edits into the proposal's commit (compare-and-swap on its branch)."""
    git = memory.git
    prop = open_proposal(memory, pid)
    if prop.branch in (memory.settings.governed_branch, f"refs/heads/{memory.settings.governed_branch}"):
        raise StateError("refusing to write fixes onto the governed branch")
    tip = git.branch_tip(memory.settings.governed_branch)
    changes: dict[str, bytes | None] = {}
    changed_ids: list[str] = []
    skipped = []
    for block_id, edits in edits_of(findings).items():
        rel = paths.get(block_id)
        # The proposal's own version if it has one, else the governed branch's (the fix joins the proposal).
        data = (git.read_file(prop.head, rel) or (git.read_file(tip, rel) if tip else None)) if rel else None
        if data is None:
            skipped.append(f"{block_id}: not found on the proposal or the governed branch")
            continue
        try:
            block = parse(data, rel)
            fixed = apply_to_block(block, edits)
        except (BadInput, BlockError) as exc:
            skipped.append(f"{block_id}: {exc}")
            continue
        if fixed != block:
            changes[rel] = render(fixed).encode()
            changed_ids.append(block_id)
    commit = None
    if changes:
        # The proposal stays one commit (DESIGN.md section 4): rewrite it with the fixes, keeping its
        # message and author, and move the branch by compare-and-swap from the tip read above.
        info = git.commit_info(prop.commit)
        msg = parse_message(info.message)
        fields: dict[str, str | list[str]] = dict(msg.trailers)
        fields["Mm-Blocks"] = sorted({*msg.get_list("Mm-Blocks"), *changed_ids})
        fields["Mm-Check-Fixed"] = sorted(changed_ids)
        message = compose(msg.title, msg.body, fields)
        tree = git.tree_with(prop.commit, changes)
        commit = git.create_commit(tree, list(info.parents), message, info.author, memory.person())
        git.update_ref(f"refs/heads/{prop.branch}", commit, prop.head, f"mindmem: check fixes for {prop.id}")
    return FixResult(tuple(sorted(changes)), commit, tuple(skipped))
