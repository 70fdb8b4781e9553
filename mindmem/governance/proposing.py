"""Propose memory changes: a branch `proposals/P-…` off the governed branch, or a new commit on one.

Nothing is committed that carries a critical secret: a proposal branch travels (`mm sync`,
`git push`) before anyone reviews it, and git keeps what it once held.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from mindmem.errors import BadInput, CheckFailed, RefConflict, StateError
from mindmem.governance.proposals import PROPOSALS, REJECTED, Proposal, open_proposal, read_proposal
from mindmem.governance.trailers import check_rationale, compose
from mindmem.store import changes as ch
from mindmem.store.blocks import Block, id_relpath, now_utc, parse
from mindmem.store.config import CONFIG_DIR
from mindmem.store.git.values import Person
from mindmem.store.memory import Memory

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo


def propose(
    memory: Memory,
    changes: Mapping[str, bytes | None],
    *,
    rationale: str,
    title: str | None = None,
    author: str | None = None,
    amend: str | None = None,
) -> Proposal:
    """Make branch proposals/P-… off the governed branch with one commit holding `changes`;
    with `amend` (an open proposal's ID), add that commit to the proposal instead."""
    rationale = check_rationale(rationale)
    agent = check_agent(author)
    git = memory.git
    branch = memory.settings.governed_branch
    tip = git.branch_tip(branch)
    if tip is None:
        raise StateError(f"the governed branch '{branch}' has no commits yet; commit the mindmem setup first")
    revised = open_proposal(memory, amend) if amend else None
    parent = revised.head if revised else tip
    before = {path: git.read_file(parent, path) for path in changes}
    effective = {path: data for path, data in changes.items() if before[path] != data}
    if not effective:
        where = f"in {revised.id}" if revised else f"on {branch}"
        raise BadInput(f"nothing to propose: the changes are already {where}")
    ch.check_worktree_changes(effective, memory.root)
    refuse_secrets(effective)
    ids = ch.block_ids(effective, before)
    person = memory.person()
    who = agent or person.name
    title = " ".join((title or default_title(effective, before, memory.root)).split())
    commit_author = Person(who, person.email) if agent else person
    tree = git.tree_with(parent, effective)
    if revised is not None:
        message = compose(
            f"Revise {revised.id}: {title}", rationale, {"Mm-Proposal": revised.id, "Mm-Author": who, "Mm-Blocks": ids}
        )
        sha = git.create_commit(tree, [parent], message, commit_author, person)
        git.update_ref(f"refs/heads/{revised.branch}", sha, revised.head, f"mindmem: revise {revised.id}")
        return read_proposal(memory, revised.branch, sha, made=(parent, effective))
    for _ in range(16):
        pid = _new_proposal_id(git)
        message = compose(title, rationale, {"Mm-Proposal": pid, "Mm-Author": who, "Mm-Blocks": ids})
        sha = git.create_commit(tree, [tip], message, commit_author, person)
        try:
            git.update_ref(f"refs/heads/{PROPOSALS}{pid}", sha, None, f"mindmem: propose {pid}")
        except RefConflict:
            continue  # another writer drew the same ID in the same instant: draw again
        return read_proposal(memory, f"{PROPOSALS}{pid}", sha, made=(tip, effective))
    raise StateError("could not create a proposal branch after 16 tries")


def propose_worktree(
    memory: Memory, *, rationale: str, title: str | None = None, author: str | None = None, amend: str | None = None
) -> Proposal:
    """Move the uncommitted memory changes of the work tree onto a proposal, like a stash that becomes a branch.

    Memory is the memory root and `.mindmem/` (settings and approvers are governed like blocks).
    Work-tree proposes queue on one lock, so two of them never carry the same new file.
    """
    git = memory.git
    branch = memory.settings.governed_branch
    if git.head_branch() != branch:
        raise StateError(
            f"the work tree is not on '{branch}' (HEAD: {git.head_branch() or 'detached'}); "
            "switch to it, or propose block files or inline edits instead"
        )
    with git.locked("worktree"):
        tip = git.branch_tip(branch)
        if tip is None:
            raise StateError(f"the governed branch '{branch}' has no commits yet; commit the mindmem setup first")
        changes = _worktree_changes(memory, tip)
        if not changes:
            raise BadInput(f"no uncommitted changes under {memory.root}/ or {CONFIG_DIR}/ to propose")
        proposal = propose(memory, changes, rationale=rationale, title=title, author=author, amend=amend)
        git.refresh_paths(tip, sorted(changes), skip_matching=True)  # mostly new files: nothing to unstage
    return proposal


def _worktree_changes(memory: Memory, tip: str) -> dict[str, bytes | None]:
    """What git status reports under memory, read now; a file another process just removed counts as removed."""
    git = memory.git
    changes: dict[str, bytes | None] = {}
    for path in git.worktree_changes(governed_folders(memory)):
        full = git.workdir / path
        # Dot-files and dot-folders are editor state or another process's half-written temporary
        # file (atomic_write's `.NAME.tmp`), never memory.
        if any(part.startswith(".") for part in path.split("/")[1:]):
            continue
        try:
            data = full.read_bytes() if full.is_file() and not full.is_symlink() else None
        except FileNotFoundError:
            data = None
        if data != git.read_file(tip, path):
            changes[path] = data
    return changes


def refuse_secrets(changes: Mapping[str, bytes | None]) -> None:
    """Critical secrets stop a proposal before anything is written (a proposal travels before review)."""
    from mindmem.checks.safety import scan

    for path, data in sorted(changes.items()):
        if data is None:
            continue
        for code, severity, message, line, fix in scan(data.decode("utf-8", "replace")):
            if code == "MM-X003" and severity == "critical":
                raise CheckFailed(f"{path}:{line}: {message}; nothing was proposed. {fix}")


def inline_changes(memory: Memory, request: ch.InlineEdit, *, author: str | None = None) -> dict[str, bytes | None]:
    """The changes of `mm propose --add/--edit/--supersede/--revoke`, against the governed head."""
    return ch.inline_changes(
        request,
        root=memory.root,
        lookup=lambda block_id: block_at_head(memory, block_id),
        author=check_agent(author) or memory.author(),
        when=now_utc(),
    )


def block_at_head(memory: Memory, block_id: str) -> Block | None:
    """One block on the governed branch, read by path (no full snapshot: this is on the propose hot path)."""
    tip = memory.git.branch_tip(memory.settings.governed_branch)
    if tip is None:
        return None
    path = f"{memory.root}/{id_relpath(block_id)}"
    data = memory.git.read_file(tip, path)
    return parse(data, path) if data is not None else None


def governed_folders(memory: Memory) -> tuple[str, str]:
    """What only changes through approvals: the memory root and the settings and approvers in `.mindmem/`."""
    return memory.root, CONFIG_DIR


def default_title(changes: Mapping[str, bytes | None], before: Mapping[str, bytes | None], root: str) -> str:
    diffs = ch.diff_blocks({p: (before.get(p), d) for p, d in changes.items()})
    verbs = {"added": "Add", "changed": "Update", "removed": "Remove"}
    if len(diffs) == 1:
        return f"{verbs[diffs[0].action]} {diffs[0].block_id}: {diffs[0].title}"
    if not diffs:
        return f"Change {', '.join(sorted(changes))}" if len(changes) <= 3 else f"Change {len(changes)} files"
    actions = {d.action for d in diffs}
    verb = verbs[actions.pop()] if len(actions) == 1 else "Change"
    title = f"{verb} {len(diffs)} blocks: " + "; ".join(d.title for d in diffs)
    return title if len(title) <= 100 else title[:99].rsplit(" ", 1)[0] + "…"


def check_agent(author: str | None) -> str | None:
    if author is None:
        return None
    if not re.match(r"^agent:[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", author):
        raise BadInput(f"an agent author must be agent:NAME (letters, digits, . _ -), got {author!r}")
    return author


def _new_proposal_id(git: GitRepo) -> str:
    day = now_utc().strftime("%Y%m%d")
    while True:
        pid = f"P-{day}-{os.urandom(3).hex()}"
        if git.branch_tip(PROPOSALS + pid) is None and git.branch_tip(REJECTED + pid) is None:
            return pid
