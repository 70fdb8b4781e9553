"""`mm sync`: share the governed branch, proposals and rejections with a git remote.

Local refs only move by compare-and-swap, and the remote only through one atomic push that is
never forced, so two clones that propose, approve and reject independently never lose each
other's work: fast-forwards go through, and anything else is refused or kept and reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mindmem.errors import CheckFailed, NotFound, RefConflict, StateError
from mindmem.governance import PROPOSALS, REJECTED, refresh_plan, refuse_secrets
from mindmem.governance.trailers import parse_message
from mindmem.store.git.values import CommitInfo
from mindmem.store.memory import Memory

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo


@dataclass(frozen=True)
class Governed:
    """What happened to the governed branch."""

    action: str  # up-to-date | fast-forwarded | pushed | fetched | absent
    old: str | None  # before: the local tip, or the remote's for `pushed`
    new: str | None
    refreshed: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Kept:
    """A branch sync left alone on purpose, and why."""

    branch: str
    reason: str


@dataclass(frozen=True)
class SyncReport:
    remote: str
    branch: str
    governed: Governed
    fetched: tuple[str, ...]  # proposal and rejection branches created or fast-forwarded here
    pushed: tuple[str, ...]  # proposal and rejection branches created or fast-forwarded on the remote
    pruned_here: tuple[str, ...]  # decided proposals removed here
    pruned_remote: tuple[str, ...]  # decided proposals removed on the remote
    kept: tuple[Kept, ...]

    @property
    def moved(self) -> bool:
        return self.governed.action in ("fast-forwarded", "pushed", "fetched") or bool(
            self.fetched or self.pushed or self.pruned_here or self.pruned_remote
        )

    def to_json(self) -> dict[str, Any]:
        g = self.governed
        return {
            "remote": self.remote,
            "branch": self.branch,
            "governed": {
                "action": g.action,
                "old": g.old,
                "new": g.new,
                "refreshed": list(g.refreshed),
                "note": g.note,
            },
            "fetched": list(self.fetched),
            "pushed": list(self.pushed),
            "pruned": {"here": list(self.pruned_here), "remote": list(self.pruned_remote)},
            "kept": [{"branch": k.branch, "reason": k.reason} for k in self.kept],
        }


@dataclass
class _Plan:
    """Ref moves worked out before anything is written."""

    here: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # branch -> (expected old, new)
    push: dict[str, str] = field(default_factory=dict)  # branch -> sha (the remote accepts fast-forwards only)
    delete_here: dict[str, str] = field(default_factory=dict)  # branch -> expected sha
    delete_remote: dict[str, str] = field(default_factory=dict)  # branch -> expected sha on the remote
    kept: list[Kept] = field(default_factory=list)


def resolve_remote(memory: Memory, remote: str | None = None) -> str:
    """The remote to sync with: the one named, else the governed branch's upstream remote, else `origin`."""
    git = memory.git
    if remote is not None:
        if git.config_value(f"remote.{remote}.url") is None:
            raise NotFound(f"no remote '{remote}' in this repository; add it with `git remote add {remote} URL`")
        return remote
    branch = memory.settings.governed_branch
    for candidate in (git.config_value(f"branch.{branch}.remote"), "origin"):
        if candidate and git.config_value(f"remote.{candidate}.url") is not None:
            return candidate
    raise StateError(
        f"no remote to sync with: '{branch}' has no upstream remote and there is no 'origin'; "
        "add one with `git remote add origin URL` or name it: `mm sync REMOTE`"
    )


def sync(memory: Memory, remote: str | None = None, *, keep_worktree: bool = False) -> SyncReport:
    """Fetch, then fast-forward or push the governed branch and exchange proposals and rejections.

    Refuses (changing nothing but the remote-tracking refs) when the governed branch has diverged
    from the remote's, or when a fast-forward would overwrite uncommitted changes.
    """
    git = memory.git
    branch = memory.settings.governed_branch
    name = resolve_remote(memory, remote)
    head_ref = f"refs/heads/{branch}"
    specs = [f"+refs/heads/{prefix}*:refs/remotes/{name}/{prefix}*" for prefix in (PROPOSALS, REJECTED)]
    # An exact refspec fails when the remote lacks the branch (a new, empty remote), so ask first.
    remote_has_branch = bool(git.ls_remote(name, [head_ref]))
    if remote_has_branch:
        specs.insert(0, f"+{head_ref}:refs/remotes/{name}/{branch}")
    git.fetch(name, specs)

    ours = git.branch_tip(branch)
    theirs = git.branch_tip(f"refs/remotes/{name}/{branch}") if remote_has_branch else None
    action, tip = _governed_action(memory, name, ours, theirs)
    refresh: bool | None = None
    paths: list[str] = []
    if action == "fast-forwarded":
        paths = sorted(git.changed_paths(ours, tip))
        refresh = refresh_plan(memory, ours, paths, keep_worktree)  # raises before anything moved
    local = {**git.refs(PROPOSALS), **git.refs(REJECTED)}
    remote_refs = {**git.remote_tips(name, PROPOSALS), **git.remote_tips(name, REJECTED)}
    plan = _plan_refs(git, name, tip, local, remote_refs)
    _hold_secrets(git, tip, plan)
    _spare_checked_out(plan, git.head_branch())

    note = _move_here(memory, name, plan, action, (ours, tip), paths, refresh)
    _push(git, name, plan, f"{tip}:{head_ref}" if action == "pushed" else None)

    before = theirs if action == "pushed" else ours  # the value of the side that moved
    governed = Governed(action, before, tip, tuple(paths) if refresh else (), note)
    return SyncReport(
        remote=name,
        branch=branch,
        governed=governed,
        fetched=tuple(plan.here),
        pushed=tuple(plan.push),
        pruned_here=tuple(plan.delete_here),
        pruned_remote=tuple(plan.delete_remote),
        kept=tuple(plan.kept),
    )


def _move_here(
    memory: Memory,
    name: str,
    plan: _Plan,
    action: str,
    governed: tuple[str | None, str | None],
    paths: list[str],
    refresh: bool | None,
) -> str | None:
    """Every local move in one locked compare-and-swap (all of them happen, or none), then the work tree."""
    git = memory.git
    branch = memory.settings.governed_branch
    ours, tip = governed
    moves: dict[str, tuple[str | None, str | None]] = {f"refs/heads/{r}": old_new for r, old_new in plan.here.items()}
    moves.update({f"refs/heads/{r}": (sha, None) for r, sha in plan.delete_here.items()})
    if action in ("fast-forwarded", "fetched"):
        moves[f"refs/heads/{branch}"] = (ours, tip)
    if moves:
        git.move_refs(moves, f"mindmem: sync from {name}")
    if action not in ("fast-forwarded", "fetched"):
        return None
    if refresh:
        git.refresh_paths(tip, paths)
        return None
    if refresh is False:
        return f"the work tree has changes to {', '.join(paths)}; it was left as it is (--keep-worktree)"
    return f"the work tree is not on {branch}; it was left as it is"


def _push(git: GitRepo, name: str, plan: _Plan, governed: str | None) -> None:
    """Proposals and rejections the remote lacks, deletions of decided ones, and the governed branch."""
    refspecs = [f"{sha}:refs/heads/{ref}" for ref, sha in plan.push.items()]
    refspecs += [f":refs/heads/{ref}" for ref in plan.delete_remote]
    if governed:
        refspecs.insert(0, governed)
    if not refspecs:
        return
    leases = {f"refs/heads/{ref}": sha for ref, sha in plan.delete_remote.items()}
    try:
        git.push(name, refspecs, leases)
    except RefConflict as exc:
        raise RefConflict(
            f"{exc}; what sync changed here stays. If someone pushed to {name} meanwhile, run `mm sync` again"
        ) from None


def _governed_action(memory: Memory, remote: str, ours: str | None, theirs: str | None) -> tuple[str, str | None]:
    """How the governed branch converges, and its tip afterwards. Only fast-forwards, either way."""
    git = memory.git
    branch = memory.settings.governed_branch
    if ours == theirs:
        return ("up-to-date" if ours else "absent"), ours
    if theirs is None:
        return "pushed", ours
    if ours is None:
        if git.head_branch() == branch:
            raise StateError(
                f"'{branch}' has no commits here but {remote} has; start from it with `git pull {remote} {branch}`"
            )
        return "fetched", theirs
    if git.is_ancestor(ours, theirs):
        return "fast-forwarded", theirs
    if git.is_ancestor(theirs, ours):
        return "pushed", ours
    raise StateError(_diverged(memory, remote, ours, theirs))


def _diverged(memory: Memory, remote: str, ours: str, theirs: str) -> str:
    """The refusal for diverged governed branches, with the commands that redo this side on top of the other."""
    git = memory.git
    branch = memory.settings.governed_branch
    only_here = list(_first_parent_until(git, ours, theirs))
    only_there = sum(1 for _ in _first_parent_until(git, theirs, ours))
    approvals = [
        (parse_message(c.message).get("Mm-Proposal"), c.sha)
        for c in only_here
        if parse_message(c.message).get("Mm-Decision") == "approved" and len(c.parents) > 1
    ]
    others = [c for c in only_here if c.sha not in {sha for _, sha in approvals}]
    move = (
        f"git reset --keep {remote}/{branch}"
        if git.head_branch() == branch
        else f"git branch -f {branch} {remote}/{branch}"
    )
    lines = [
        f"'{branch}' and {remote}/{branch} have diverged: {len(only_here)} commit(s) only here, "
        f"{only_there} only on {remote}. Nothing was changed here or on {remote}; "
        f"mm never force-pushes or rewrites '{branch}'.",
        f"To keep both sides, redo what was approved here on top of {remote}/{branch}:",
        *(f"  git branch proposals/{pid} {sha[:12]}^2" for pid, sha in approvals),
        f"  {move}",
        f"  mm sync {remote}",
        *(f"  mm approve {pid}    (run `mm rebase {pid}` first if approve asks for it)" for pid, _ in approvals),
        f"  mm sync {remote}",
    ]
    if others:
        lines.append("Commits here that are not approvals must be redone by hand afterwards:")
        lines += [f"  {c.sha[:12]} {parse_message(c.message).title}" for c in others]
    return "\n".join(lines)


def _first_parent_until(git: GitRepo, tip: str, other: str) -> Iterator[CommitInfo]:
    """First-parent commits of `tip` that `other` does not contain, newest first."""
    for info in git.walk(tip, first_parent=True):
        if git.is_ancestor(info.sha, other):
            return
        yield info


def _plan_refs(git: GitRepo, remote: str, tip: str | None, ours: dict[str, str], theirs: dict[str, str]) -> _Plan:
    """Converge proposals/* and rejected/*: missing refs travel, decided proposals are pruned, conflicts are kept."""
    plan = _Plan()
    rejections = {ref for ref in (*ours, *theirs) if ref.startswith(REJECTED)}
    for ref in sorted(rejections):
        _converge(git, remote, ref, ours.get(ref), theirs.get(ref), plan)
    proposals = sorted({ref for ref in (*ours, *theirs) if ref.startswith(PROPOSALS)})
    approved = _approved_heads(git, tip) if proposals else {}
    for ref in proposals:
        pid = ref.removeprefix(PROPOSALS)
        mine, yours = ours.get(ref), theirs.get(ref)
        decided = list(approved.get(pid, ()))
        decided += [_rejected_head(git, r) for r in (ours.get(REJECTED + pid), theirs.get(REJECTED + pid)) if r]
        heads = [sha for sha in (mine, yours) if sha]
        if not decided and not (tip and any(git.is_ancestor(sha, tip) for sha in heads)):
            _converge(git, remote, ref, mine, yours, plan)
            continue
        for sha, prune, where in ((mine, plan.delete_here, "here"), (yours, plan.delete_remote, f"on {remote}")):
            if sha is None:
                continue
            if (tip and git.is_ancestor(sha, tip)) or any(_covers(git, d, sha) for d in decided):
                prune[ref] = sha
            else:
                plan.kept.append(
                    Kept(
                        ref,
                        f"{pid} was decided, but the version {where} ({sha[:12]}) is not the one decided; "
                        "kept so nothing is lost: propose what it adds again, or delete the branch",
                    )
                )
    return plan


def _spare_checked_out(plan: _Plan, current: str | None) -> None:
    """Moving or deleting the branch the work tree is on would leave the work tree out of step: keep it."""
    if current in plan.here or current in plan.delete_here:
        plan.here.pop(current, None)
        plan.delete_here.pop(current, None)
        plan.kept.append(Kept(current, "the work tree is on it; switch to another branch and run `mm sync` again"))


def _converge(git: GitRepo, remote: str, ref: str, mine: str | None, yours: str | None, plan: _Plan) -> None:
    """An undecided branch: the side that lacks it or is behind catches up; two different versions are kept."""
    if mine == yours:
        return
    if yours is not None and (mine is None or git.is_ancestor(mine, yours)):
        plan.here[ref] = (mine, yours)
    elif mine is not None and (yours is None or git.is_ancestor(yours, mine)):
        plan.push[ref] = mine
    else:
        plan.kept.append(
            Kept(
                ref,
                f"differs here ({mine[:12]}) and on {remote} ({yours[:12]}); both kept. Compare them with "
                f"`git diff {ref} {remote}/{ref}`, then keep one (`git branch -f {ref} {remote}/{ref}`, or "
                f"`git push {remote} :{ref}` and `mm sync` again)",
            )
        )


def _hold_secrets(git: GitRepo, tip: str | None, plan: _Plan) -> None:
    """A proposal that carries a critical secret never leaves this machine (pushed, it is public for good)."""
    for ref, sha in list(plan.push.items()):
        if not ref.startswith(PROPOSALS):
            continue
        base = git.merge_base(tip, sha) if tip else None
        try:
            refuse_secrets({path: new for path, (_, new) in git.changed_paths(base, sha).items()})
        except CheckFailed as exc:
            del plan.push[ref]
            reason = str(exc).replace("nothing was proposed", "not pushed")
            plan.kept.append(Kept(ref, f"{reason} (then `mm reject {ref.removeprefix(PROPOSALS)}`)"))


def _approved_heads(git: GitRepo, tip: str | None) -> dict[str, list[str]]:
    """Proposal ID -> the proposal heads its approvals merged, from the first-parent history of the governed tip."""
    found: dict[str, list[str]] = {}
    for info in git.walk(tip, first_parent=True) if tip else ():
        msg = parse_message(info.message)
        pid = msg.get("Mm-Proposal")
        if pid and msg.get("Mm-Decision") == "approved" and len(info.parents) > 1:
            found.setdefault(pid, []).append(info.parents[1])
    return found


def _rejected_head(git: GitRepo, sha: str) -> str:
    """The proposal head a rejected/P branch records (below its rejection commit)."""
    info = git.commit_info(sha)
    return info.parents[0] if info.parents and parse_message(info.message).get("Mm-Decision") == "rejected" else sha


def _covers(git: GitRepo, decided: str, head: str) -> bool:
    """Whether deciding `decided` settled `head` too: it contains it, or makes the same change (a rebased copy)."""
    if git.is_ancestor(head, decided):
        return True
    return _change(git, head) == _change(git, decided)


def _change(git: GitRepo, sha: str) -> dict[str, bytes | None]:
    """What one commit changes: path -> new content (None: deleted)."""
    parents = git.commit_info(sha).parents
    return {path: new for path, (_, new) in git.changed_paths(parents[0] if parents else None, sha).items()}
