"""Build a `CheckContext` for what `mm check` is asked to look at: work tree, index, range or proposal.

Every source is reduced to `{path: blob sha}` for the snapshot plus the paths that
changed (old sha, new sha); blocks come from the blob-keyed cache, so only new
content is parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path

from mindmem.blocks import Block
from mindmem.checks.cache import BlockCache
from mindmem.checks.context import CheckContext
from mindmem.errors import BadInput, BlockError
from mindmem.memory import Memory
from mindmem.snapshot import assemble, is_block_path

# Files under the memory root that are not blocks and are expected there.
KNOWN_FILES = (".gitkeep", "README.md")
Changed = Mapping[str, tuple[str | None, str | None]]


def context_for(
    memory: Memory,
    *,
    staged: bool = False,
    proposal: str | None = None,
    rev_range: str | None = None,
    full: bool = False,
    index_file: Path | None = None,
    today: date | None = None,
) -> CheckContext:
    """What to check. Default: every block in the work tree.

    `staged`: the index (or `index_file`) against HEAD; `rev_range` "A..B": what changed
    from merge-base(A, B) to B, checked against B; `proposal` "P-…": what the proposal
    changes, checked against the governed branch with the proposal merged in. These three
    check only the touched blocks (and what they meet) unless `full`.
    """
    if sum(1 for chosen in (staged, proposal, rev_range) if chosen) > 1:
        raise BadInput("choose one of --staged, --proposal and a range A..B")
    cache = BlockCache(memory.git.common_dir / "mindmem" / "checks" / "blocks.pickle")
    try:
        if staged:
            ctx = _staged(memory, cache, index_file)
        elif proposal:
            ctx = _proposal(memory, cache, proposal)
        elif rev_range:
            ctx = _range(memory, cache, rev_range)
        else:
            ctx = _worktree(memory, cache)
    finally:
        cache.save()
    if full:
        ctx = replace(ctx, touched=None, touched_paths=None)
    if today is not None:
        ctx = replace(ctx, today=today)
    return ctx


def _worktree(memory: Memory, cache: BlockCache) -> CheckContext:
    data = dict(memory.worktree_files())
    entries = {path: memory.git.blob_sha(raw) for path, raw in data.items()}
    return _build(memory, cache, entries, data.get, None, "work tree", memory.git.head_commit(), data)


def _staged(memory: Memory, cache: BlockCache, index_file: Path | None) -> CheckContext:
    git = memory.git
    entries = git.tree_blobs(git.index_tree(index_file), memory.root)
    head = git.head_commit()
    before = git.tree_blobs(head, memory.root) if head else {}
    return _build(memory, cache, entries, _reader(memory, entries), _diff(before, entries), "staged changes", head)


def _range(memory: Memory, cache: BlockCache, rev_range: str) -> CheckContext:
    git = memory.git
    a_rev, sep, b_rev = rev_range.partition("..")
    if not sep or not a_rev or not b_rev or b_rev.startswith("."):
        raise BadInput(f"'{rev_range}' is not a range; write it as A..B, e.g. main..feature")
    a, b = git.resolve(a_rev), git.resolve(b_rev)
    base = git.merge_base(a, b) or a
    entries = git.tree_blobs(b, memory.root)
    changed = _diff(git.tree_blobs(base, memory.root), entries)
    return _build(memory, cache, entries, _reader(memory, entries), changed, rev_range, b, commit=b)


def _proposal(memory: Memory, cache: BlockCache, pid: str) -> CheckContext:
    """The proposal's changes, checked in the tree approve would create (the governed tip with them merged)."""
    from mindmem import governance

    git = memory.git
    prop = governance.find_proposal(memory, pid)
    tip = git.branch_tip(memory.settings.governed_branch)
    target = prop.head
    if tip is not None and prop.base is not None and not git.is_ancestor(tip, prop.base):
        merged, _conflicts = git.merge_tree(prop.base, tip, prop.head)
        # A proposal that no longer merges is checked as written; approve reports the conflict itself.
        target = merged or prop.head
    entries = git.tree_blobs(target, memory.root)
    before = git.tree_blobs(prop.base, memory.root) if prop.base else {}
    changed = _diff(before, git.tree_blobs(prop.commit, memory.root))
    return _build(memory, cache, entries, _reader(memory, entries), changed, f"proposal {prop.id}", prop.head)


def _diff(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, tuple[str | None, str | None]]:
    return {
        path: (before.get(path), after.get(path))
        for path in before.keys() | after.keys()
        if before.get(path) != after.get(path)
    }


def _reader(memory: Memory, entries: Mapping[str, str]) -> Callable[[str], bytes | None]:
    def read(path: str) -> bytes | None:
        sha = entries.get(path)
        return memory.git.read_blob(sha) if sha else None

    return read


def _build(
    memory: Memory,
    cache: BlockCache,
    entries: Mapping[str, str],
    read: Callable[[str], bytes | None],
    changed: Changed | None,
    label: str,
    code_rev: str | None,
    data: Mapping[str, bytes] | None = None,
    *,
    commit: str | None = None,
) -> CheckContext:
    def block(path: str, sha: str) -> Block | BlockError:
        try:
            return cache.block(sha, (data or {}).get(path), path, memory.git.read_blob)
        except BlockError as exc:
            return exc

    parsed = [(path, block(path, sha)) for path, sha in sorted(entries.items()) if is_block_path(path)]
    snapshot, problems = assemble(parsed, memory.root, commit, strict_paths=False)
    stray = tuple(p for p in sorted(entries) if not is_block_path(p) and p.rsplit("/", 1)[-1] not in KNOWN_FILES)
    touched = touched_paths = None
    if changed is not None:
        touched_paths = frozenset(changed)
        ids = set()
        for path, shas in changed.items():
            for sha in shas:
                found = block(path, sha) if sha and is_block_path(path) else None
                if isinstance(found, Block):
                    ids.add(found.id)
        touched = frozenset(ids)
    return CheckContext(
        snapshot=snapshot,
        root=memory.root,
        label=label,
        problems=tuple(problems),
        stray=stray,
        touched=touched,
        touched_paths=touched_paths,
        read=read,
        repo=memory.git,
        code_rev=code_rev,
        options=memory.settings.sections.get("checks", {}),
    )
