"""Refs: resolving revisions, branch tips, and moving refs only by compare-and-swap."""

from __future__ import annotations

from collections.abc import Mapping

import pygit2

from mindmem.errors import NotFound, RefConflict
from mindmem.store.git.base import GitBase
from mindmem.store.git.values import ref_name

# A sentinel distinct from None ("the branch must not exist yet").
CURRENT_TIP = "current-tip"


class Refs(GitBase):
    def head_branch(self) -> str | None:
        """The branch HEAD points at (even when it has no commit yet), or None when detached."""
        try:
            target = self._raw.references["HEAD"].target
        except KeyError:
            return None
        if isinstance(target, str) and target.startswith("refs/heads/"):
            return target.removeprefix("refs/heads/")
        return None

    def head_commit(self) -> str | None:
        if self._raw.head_is_unborn:
            return None
        return str(self._raw.head.peel(pygit2.Commit).id)

    def resolve(self, rev: str) -> str:
        """The commit sha a revision names (branch, tag, sha, `HEAD~2` …)."""
        try:
            obj = self._raw.revparse_single(rev)
            return str(obj.peel(pygit2.Commit).id)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise NotFound(f"unknown revision '{rev}'") from None

    def find_commit(self, sha: str) -> str | None:
        """The commit a hex object name (or a unique prefix of one) names, or None. Unlike `resolve`
        no ref is tried first, which costs several file lookups per name: citations name commits."""
        try:
            return str(self._peel(sha, pygit2.Commit).id)
        except NotFound:
            return None

    def branch_tip(self, branch: str) -> str | None:
        try:
            ref = self._raw.references.get(ref_name(branch))
            return str(ref.peel(pygit2.Commit).id) if ref is not None else None
        except (KeyError, pygit2.GitError):  # deleted by another process between lookup and peel
            return None

    def refs(self, prefix: str) -> dict[str, str]:
        """Branches under `prefix` (e.g. "proposals/") -> tip sha."""
        out = {}
        for name in self._raw.references:
            if name.startswith("refs/heads/" + prefix):
                tip = self.branch_tip(name)
                if tip is not None:  # None: another process deleted it since the listing
                    out[name.removeprefix("refs/heads/")] = tip
        return out

    def update_ref(self, name: str, new: str, old: str | None, message: str) -> None:
        """Point `name` at `new` only if it still points at `old` (None: only if it does not exist)."""
        refs = self._raw.references
        try:
            if old is None:
                refs.create(name, pygit2.Oid(hex=new), force=False)
                return
            ref = refs.get(name)
            if ref is None or str(ref.target) != old:
                raise RefConflict(f"{name} moved while mm was writing; nothing was overwritten, try again")
            ref.set_target(pygit2.Oid(hex=new), message)
        except pygit2.AlreadyExistsError:
            raise RefConflict(f"{name} was created by someone else meanwhile; nothing was overwritten") from None
        except pygit2.GitError as exc:
            raise RefConflict(f"could not move {name}: {exc}; nothing was overwritten") from None
        except OSError:
            # libgit2 reports a held `<ref>.lock` (another writer mid-update) as an OSError.
            raise RefConflict(f"{name} is locked by another writer; nothing was overwritten, try again") from None

    def move_refs(self, updates: Mapping[str, tuple[str | None, str | None]], message: str) -> None:
        """Compare-and-swap several refs together: name -> (old, new); old None: must not exist, new None: delete.

        All the refs are locked first (git's `.lock` files), then checked, then written, so two writers
        racing for any of them cannot both win: the loser gets RefConflict and nothing of its moves.
        """
        try:
            with self._raw.transaction() as txn:
                for name in sorted(updates):
                    txn.lock_ref(name)
                for name, (old, new) in updates.items():
                    ref = self._raw.references.get(name)
                    if (str(ref.target) if ref is not None else None) != old:
                        raise RefConflict(f"{name} moved while mm was writing; nothing was overwritten, try again")
                    if new is None:
                        txn.remove(name)
                    else:
                        txn.set_target(name, new, message=message)
        except (pygit2.GitError, OSError) as exc:
            raise RefConflict(f"could not update {', '.join(updates)}: {exc}; nothing was overwritten") from None

    def delete_ref(self, branch: str, old: str) -> None:
        """Delete a branch only if it still points at `old`."""
        name = ref_name(branch)
        ref = self._raw.references.get(name)
        if ref is None or str(ref.target) != old:
            raise RefConflict(f"{name} moved while mm was working; it was left as it is")
        try:
            ref.delete()
        except (pygit2.GitError, OSError):
            raise RefConflict(f"{name} is locked by another writer; it was left as it is") from None
