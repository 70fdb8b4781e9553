"""Commits: writing them (signed or not, beside the work tree), reading them, and walking history."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import pygit2
from pygit2.enums import SortMode

from mindmem.errors import NotFound
from mindmem.store.git.base import signature
from mindmem.store.git.objects import Objects
from mindmem.store.git.refs import CURRENT_TIP, Refs
from mindmem.store.git.values import CommitInfo, Person, ref_name


class Commits(Objects, Refs):
    def commit_files(
        self,
        branch: str,
        changes: Mapping[str, bytes | None],
        message: str,
        author: Person,
        *,
        expected_tip: str | None = CURRENT_TIP,
        when: int | None = None,
    ) -> str:
        """Write `changes` (path -> bytes, or None to delete) as one commit on `branch`.

        The work tree and the index are not touched. The branch moves by
        compare-and-swap from `expected_tip` (default: its tip as read now; None:
        it must not exist yet), so a concurrent writer is never overwritten.
        `when` (Unix seconds, default now) dates the commit, e.g. for replayed history.
        """
        parent = self.branch_tip(branch) if expected_tip == CURRENT_TIP else expected_tip
        tree = pygit2.Oid(hex=self.tree_with(parent, changes))
        sig = signature(author, when)
        commit = self._raw.create_commit(None, sig, sig, message, tree, [pygit2.Oid(hex=parent)] if parent else [])
        self.update_ref(ref_name(branch), str(commit), parent, f"mindmem: {message.splitlines()[0]}")
        return str(commit)

    def create_commit(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: Person,
        committer: Person | None = None,
        sign: Callable[[bytes], str] | None = None,
    ) -> str:
        """Write a commit object (signed when `sign` is given) without moving any ref."""
        author_sig = signature(author)
        committer_sig = signature(committer or author, author_sig.time)
        parent_ids = [pygit2.Oid(hex=p) for p in parents]
        tree_id = pygit2.Oid(hex=tree)
        if sign is None:
            return str(self._raw.create_commit(None, author_sig, committer_sig, message, tree_id, parent_ids))
        content = self._raw.create_commit_string(author_sig, committer_sig, message, tree_id, parent_ids)
        return str(self._raw.create_commit_with_signature(content, sign(content.encode())))

    def commit_info(self, sha: str) -> CommitInfo:
        commit = self._peel(sha, pygit2.Commit)
        return CommitInfo(
            sha=str(commit.id),
            parents=tuple(str(p) for p in commit.parent_ids),
            message=commit.message,
            author=Person(commit.author.name, commit.author.email),
            time=commit.commit_time,
            tree=str(commit.tree_id),
        )

    def commit_signature(self, sha: str) -> tuple[str | None, bytes]:
        """(armored signature or None, the bytes it signs) of a commit; unsigned, the whole commit object."""
        commit = self._peel(sha, pygit2.Commit)
        signature, payload = commit.gpg_signature
        if signature is None:
            return None, commit.read_raw()
        return signature.decode(errors="replace"), payload

    def has_commit(self, sha: str) -> bool:
        try:
            self._peel(sha, pygit2.Commit)
        except NotFound:
            return False
        return True

    def walk(self, tip: str, *, first_parent: bool = False) -> Iterator[CommitInfo]:
        """Commits reachable from `tip`, newest first."""
        walker = self._raw.walk(self._oid(tip), SortMode.TOPOLOGICAL | SortMode.TIME)
        if first_parent:
            walker.simplify_first_parent()
        for commit in walker:
            yield self.commit_info(str(commit.id))

    def commits_between(self, base: str | None, head: str) -> list[str]:
        """The commits in base..head (reachable from head, not from base), oldest first, like `git rev-list`."""
        walker = self._raw.walk(self._oid(head), SortMode.TOPOLOGICAL | SortMode.REVERSE)
        if base:
            walker.hide(self._oid(base))
        return [str(commit.id) for commit in walker]

    def merge_base(self, a: str, b: str) -> str | None:
        base = self._raw.merge_base(self._oid(a), self._oid(b))
        return str(base) if base else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor == descendant or self._raw.descendant_of(self._oid(descendant), self._oid(ancestor))

    def _oid(self, sha: str) -> pygit2.Oid:
        """The id of a commit that exists (NotFound otherwise), for the walks that take ids."""
        return self._peel(sha, pygit2.Commit).id
