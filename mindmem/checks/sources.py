"""Build a `CheckContext` for what `mm check` is asked to look at: work tree, index, range or proposal.

Every source is reduced to `{path: blob sha}` for the snapshot plus the paths that
changed (old sha, new sha); blocks come from the blob-keyed cache, so only new
content is parsed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from mindmem.checks.cache import BlockCache, ReadMany
from mindmem.checks.catalog import Catalog
from mindmem.checks.context import CheckContext
from mindmem.checks.indexed import IndexedCatalog, open_view
from mindmem.errors import BadInput, BadParameter, BlockError
from mindmem.store import gitdir
from mindmem.store.blocks import Block
from mindmem.store.memory import Memory
from mindmem.store.parsed import MANY, ParsedBlocks
from mindmem.store.snapshot import assemble, is_block_path

# Files under the memory root that are not blocks and are expected there.
KNOWN_FILES = (".gitkeep", "README.md")
# Past this many changed files, one pass over every digest beats index lookups per changed block.
MANY_CHANGES = 500
Changed = Mapping[str, tuple[str | None, str | None]]


def context_for(
    memory: Memory,
    *,
    staged: bool = False,
    proposal: Merge | None = None,
    rev_range: str | None = None,
    full: bool = False,
    index_file: Path | None = None,
    also_staged: Mapping[str, bytes] | None = None,
    paths: Sequence[str] | None = None,
    today: date | None = None,
    started: Callable[[], Mapping[str, str | None]] | None = None,
) -> CheckContext:
    """What to check. Default: every block in the work tree.

    `staged`: the index (or `index_file`) against HEAD; `rev_range` "A..B": what changed
    from merge-base(A, B) to B, checked against B; `proposal` (a `Merge`, which governance
    works out): what the proposal changes, checked in the tree approving it would write. These three
    check only the touched blocks (and what they meet) unless `full`. `also_staged`
    ({path: bytes}) checks the index as it will be once those files are staged too
    (what `--staged --fix` just wrote). `paths` (repo-relative files, what the pre-commit
    framework passes): the work tree, checking those files and what they meet. `started`: with
    `staged`, the staged diff the caller asked git for beforehand (`git.start_staged_changes`), so
    git read the index while the caller loaded the checks.
    """
    if sum(1 for chosen in (staged, proposal, rev_range, paths is not None) if chosen) > 1:
        raise BadParameter("choose one of {staged}, {proposal}, a range A..B and file names")
    cache = BlockCache(gitdir.checks_cache(memory.git), ParsedBlocks(gitdir.blocks_cache(memory.git)))
    try:
        if staged:
            source = _staged(memory, index_file, also_staged or {}, started)
        elif proposal:
            source = _proposal(memory, proposal)
        elif rev_range:
            source = _range(memory, rev_range)
        elif paths is not None:
            source = _files(memory, paths)
        else:
            source = _worktree(memory)
        ctx = _build(memory, cache, source, full=full)
    finally:
        cache.save()
    return ctx if today is None else replace(ctx, today=today)


@dataclass(frozen=True)
class _Source:
    """A snapshot as a tree (or none: the work tree) with files on top ({path: blob sha, None: removed}),
    how to read a blob, and what changed (None: check everything)."""

    label: str
    tree: str | None
    on_top: Mapping[str, str | None]
    read: Callable[[str], bytes]
    changed: Changed | None
    code_rev: str | None
    commit: str | None = None

    def entries(self, memory: Memory) -> dict[str, str]:
        """{path: blob sha} of every file under the memory root (lists the whole tree)."""
        listed = memory.git.tree_blobs(self.tree, memory.root) if self.tree else {}
        return {p: sha for p, sha in {**listed, **self.on_top}.items() if sha is not None}


def _worktree(memory: Memory) -> _Source:
    by_sha: dict[str, bytes] = {}
    entries = {}
    for path, data in memory.worktree_files():
        sha = memory.git.blob_sha(data)
        entries[path] = sha
        by_sha[sha] = data

    def read(sha: str) -> bytes:
        return by_sha[sha] if sha in by_sha else memory.git.read_blob(sha)

    return _Source("work tree", None, entries, read, None, memory.git.head_commit())


def _files(memory: Memory, paths: Sequence[str]) -> _Source:
    """The work tree, with the given files as the change (files outside the memory root are ignored)."""
    source = _worktree(memory)
    head = source.code_rev
    before = memory.git.tree_blobs(head, memory.root) if head else {}
    prefix = memory.root + "/"
    # A file that is gone from the work tree (deleted) still counts: its old block may be cited.
    changed = {p: (before.get(p), source.on_top.get(p)) for p in paths if p.startswith(prefix)}
    label = f"{sum(1 for p in changed if is_block_path(p))} file(s)"
    return replace(source, label=label, changed=changed)


def _staged(
    memory: Memory,
    index_file: Path | None,
    also: Mapping[str, bytes],
    started: Callable[[], Mapping[str, str | None]] | None = None,
) -> _Source:
    git = memory.git
    head = git.head_commit()
    staged = dict(started() if started is not None else git.staged_changes(memory.root, index_file))
    extra = {git.blob_sha(data): data for data in also.values()}
    staged.update({path: git.blob_sha(data) for path, data in also.items()})
    at_head = {p: git.read_file(head, p) if head else None for p in staged}  # a few files, not the tree
    changed = {p: (git.blob_sha(data) if data is not None else None, staged[p]) for p, data in at_head.items()}

    def read(sha: str) -> bytes:
        return extra[sha] if sha in extra else git.read_blob(sha)

    return _Source("staged changes", head, staged, read, changed, head)


def _range(memory: Memory, rev_range: str) -> _Source:
    git = memory.git
    a_rev, sep, b_rev = rev_range.partition("..")
    if not sep or not a_rev or not b_rev or b_rev.startswith("."):
        raise BadInput(f"'{rev_range}' is not a range; write it as A..B, e.g. main..feature")
    a, b = git.resolve(a_rev), git.resolve(b_rev)
    base = git.merge_base(a, b) or a
    changed = git.changed_blobs(base, b, memory.root)
    return _Source(rev_range, b, {}, git.read_blob, changed, b, commit=b)


@dataclass(frozen=True)
class Merge:
    """A change as approving it would write it: the changes base..head, seen in `tree`."""

    label: str
    base: str | None
    head: str
    tree: str


def _proposal(memory: Memory, merge: Merge) -> _Source:
    git = memory.git
    changed = git.changed_blobs(merge.base, merge.head, memory.root)
    return _Source(merge.label, merge.tree, {}, git.read_blob, changed, merge.head)


def _build(memory: Memory, cache: BlockCache, source: _Source, *, full: bool) -> CheckContext:
    """Digest every block file, then read in full only the blocks the check will look at."""
    if source.changed is not None and source.tree is not None and not full and len(source.changed) <= MANY_CHANGES:
        try:
            return _build_indexed(memory, cache, source)
        except (OSError, sqlite3.Error):  # no key index here (a git dir it cannot write): read every digest
            pass
    entries, read = source.entries(memory), source.read
    options = memory.settings.sections.get("checks", {})
    block_paths = sorted(p for p in entries if is_block_path(p))
    # The work tree's files are read already; a tree's blobs are read in one go when many are new.
    read_many = _read_many(memory) if source.tree is not None else None
    digests = cache.digests_of({p: entries[p] for p in block_paths}, read, read_many)
    touched = touched_paths = None
    needed = block_paths
    if source.changed is not None and not full:
        touched_paths = frozenset(source.changed)
        touched = frozenset(
            d.id
            for path, shas in source.changed.items()
            if is_block_path(path)
            for sha in shas
            if sha and (d := cache.digest(sha, path, read)) is not None
        )
        catalog = Catalog(digests, options, focus=touched)
        wanted = catalog.neighbourhood(touched)
        needed = [p for p in block_paths if p in touched_paths or (p in digests and digests[p].id in wanted)]
    else:
        catalog = Catalog(digests, options)
    many = len(needed) > MANY

    def parsed(path: str) -> Block | BlockError:
        try:
            return cache.block(entries[path], path, read, many=many)
        except BlockError as exc:
            return exc

    snapshot, problems = assemble([(p, parsed(p)) for p in needed], memory.root, source.commit, strict_paths=False)
    stray = tuple(p for p in sorted(entries) if not is_block_path(p) and p.rsplit("/", 1)[-1] not in KNOWN_FILES)
    return CheckContext(
        snapshot=snapshot,
        catalog=catalog,
        root=memory.root,
        label=source.label,
        problems=tuple(problems),
        stray=stray,
        touched=touched,
        touched_paths=touched_paths,
        read=lambda path: read(entries[path]) if path in entries else None,
        repo=memory.git,
        code_rev=source.code_rev,
        options=options,
    )


def _read_many(memory: Memory) -> ReadMany:
    # libgit2 is loaded only if a cold store makes it read many blobs.
    return lambda shas: memory.git.read_blobs(shas)


def _build_indexed(memory: Memory, cache: BlockCache, source: _Source) -> CheckContext:
    """A check of a few changed files: their neighbours come from the key index (`checks/indexed.py`),
    so nothing is listed or read in proportion to the tree; only the blocks the check looks at are read."""
    assert source.tree is not None and source.changed is not None
    read, root = source.read, memory.root
    options = memory.settings.sections.get("checks", {})
    view = open_view(
        gitdir.checks_cache(memory.git) / "keys.sqlite",
        memory.git,
        root,
        _tree_id(memory, source.tree),
        source.on_top,
        lambda entries: cache.digests_of(entries, read, _read_many(memory)),
        lambda entries: cache.parsed_digests(entries, read),
    )
    touched_paths = frozenset(source.changed)
    blobs = {(p, sha) for p, shas in source.changed.items() if is_block_path(p) for sha in shas if sha}
    touched = frozenset(d.id for p, sha in blobs for d in cache.parsed_digests({p: sha}, read).values())
    catalog = IndexedCatalog(view, options, focus=touched)
    wanted = catalog.neighbourhood(touched)
    # Changed files that are not blocks (strays) are not in the index: their sha is the change's own.
    entries = {p: sha for p in touched_paths if (sha := view.sha(p) if is_block_path(p) else source.changed[p][1])}
    for block_id in sorted(wanted):
        entries.update((p, sha) for p, sha, _ in catalog.files_of(block_id))

    def parsed(path: str) -> Block | BlockError:
        try:
            return cache.block(entries[path], path, read)
        except BlockError as exc:
            return exc

    needed = sorted(p for p in entries if is_block_path(p))
    snapshot, problems = assemble([(p, parsed(p)) for p in needed], root, source.commit, strict_paths=False)
    stray = tuple(p for p in sorted(entries) if not is_block_path(p) and p.rsplit("/", 1)[-1] not in KNOWN_FILES)

    def read_path(path: str) -> bytes | None:
        sha = entries.get(path) or view.sha(path)
        return read(sha) if sha is not None else None

    return CheckContext(
        snapshot=snapshot,
        catalog=catalog,
        root=root,
        label=source.label,
        problems=tuple(problems),
        stray=stray,
        touched=touched,
        touched_paths=touched_paths,
        read=read_path,
        repo=memory.git,
        code_rev=source.code_rev,
        options=options,
    )


def _tree_id(memory: Memory, rev: str) -> str:
    """The tree a commit or tree sha names: the key index is kept by tree, so equal trees skip the diff."""
    try:
        return memory.git.commit_info(rev).tree
    except Exception:  # already a tree
        return rev
