"""`mm check --fix`: apply the machine-applicable edits findings carry.

Edits go into the work tree (for the work tree and `--staged`; the user re-stages);
governance/fix.py writes them into a proposal's commit, never onto the governed branch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mindmem.checks.findings import Edit, Finding
from mindmem.errors import BadInput, BlockError
from mindmem.store import changes as ch
from mindmem.store.blocks import STATUSES, Block, parse, render
from mindmem.store.files import atomic_write
from mindmem.store.memory import Memory


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
