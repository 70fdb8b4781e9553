"""`mm check --fix`: apply the machine-applicable edits findings carry.

Edits go into the work tree (for the work tree and `--staged`; the user re-stages)
or into the proposal's commit (for `--proposal`), never onto the
governed branch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mindmem import changes as ch
from mindmem.blocks import STATUSES, Block, parse, render
from mindmem.checks.findings import Edit, Finding
from mindmem.errors import BadInput, BlockError, StateError
from mindmem.files import atomic_write
from mindmem.memory import Memory
from mindmem.trailers import compose, parse_message


@dataclass(frozen=True)
class FixResult:
    """Which files were rewritten (or the commit made on the proposal), and edits that could not be applied."""

    paths: tuple[str, ...]
    commit: str | None
    skipped: tuple[str, ...]


def edits_of(findings: Iterable[Finding]) -> dict[str, list[Edit]]:
    """Edits per block, each once, in the order the findings give them."""
    out: dict[str, list[Edit]] = {}
    for finding in findings:
        for edit in finding.edits:
            todo = out.setdefault(edit.block_id, [])
            if edit not in todo:
                todo.append(edit)
    return out


def apply_to_block(block: Block, edits: list[Edit]) -> Block:
    """The block with the edits applied, validated again (BadInput if an edit does not fit it)."""
    edges = {edge_type: list(targets) for edge_type, targets in block.edges}
    fields: dict[str, object] = {}
    for edit in edits:
        if edit.op == "set_status":
            if edit.status not in STATUSES[block.type]:
                raise BadInput(f"a {block.type} cannot have status {edit.status}")
            fields["status"] = edit.status
        elif edit.op == "add_edge":
            targets = edges.setdefault(edit.edge or "", [])
            if edit.target not in targets:
                targets.append(edit.target or "")
        elif edit.op == "remove_edge":
            targets = edges.get(edit.edge or "", [])
            if edit.target in targets:
                targets.remove(edit.target)
    fields["edges"] = {t: ids for t, ids in edges.items() if ids} or None
    return ch.edit(block, fields)


def fix_worktree(memory: Memory, findings: Iterable[Finding], paths: dict[str, str]) -> FixResult:
    """Rewrite the work-tree files of the blocks the edits name (`paths`: block ID -> repo path)."""
    written, skipped = [], []
    for block_id, edits in edits_of(findings).items():
        rel = paths.get(block_id)
        full = memory.workdir / rel if rel else None
        if full is None or not full.is_file():
            skipped.append(f"{block_id}: not in the work tree")
            continue
        try:
            block = parse(full.read_bytes(), rel)
            fixed = apply_to_block(block, edits)
        except (BadInput, BlockError) as exc:
            skipped.append(f"{block_id}: {exc}")
            continue
        if fixed != block:
            atomic_write(full, render(fixed).encode())
            written.append(rel)
    return FixResult(tuple(written), None, tuple(skipped))


def fix_proposal(memory: Memory, pid: str, findings: Iterable[Finding], paths: dict[str, str]) -> FixResult:
    """Write the edits into the proposal's commit (compare-and-swap on its branch)."""
    from mindmem import governance

    git = memory.git
    prop = governance.open_proposal(memory, pid)
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
