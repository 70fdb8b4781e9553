"""The only module that reads or writes git objects (through pygit2).

Reads come straight from objects, never from a checkout. Writes build trees in
memory and move refs by compare-and-swap, so the work tree and the user's index
are untouched unless a caller asks for it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import FileMode, ObjectType

from mindmem.errors import NotFound, RefConflict, StateError
from mindmem.store import gitdir
from mindmem.store.files import atomic_write

# A sentinel distinct from None ("the branch must not exist yet").
CURRENT_TIP = "current-tip"
_LINK_MODE = int(FileMode.LINK)
_ZERO_OID = pygit2.Oid(hex="0" * 40)
# Set inside git hooks; a git child started from one must find its repository from --git-dir, not from these.
GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    def signature(self, when: int | None = None, offset: int = 0) -> pygit2.Signature:
        return pygit2.Signature(self.name, self.email, int(when or time.time()), offset)


class GitRepo:
    """A git repository, seen through the few operations mindmem needs."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.raw = repo

    @classmethod
    def discover(cls, start: Path) -> GitRepo:
        found = pygit2.discover_repository(str(start))
        if found is None:
            raise StateError(f"not a git repository (or any parent): {start}; run `mm init`")
        return cls(pygit2.Repository(found))

    @classmethod
    def init(cls, path: Path, initial_branch: str = "main") -> GitRepo:
        return cls(pygit2.init_repository(str(path), initial_head=initial_branch))

    @property
    def is_bare(self) -> bool:
        return bool(self.raw.is_bare)

    @property
    def workdir(self) -> Path:
        if self.raw.is_bare or not self.raw.workdir:
            raise StateError("this command needs a work tree; the repository is bare")
        return Path(self.raw.workdir)

    @property
    def common_dir(self) -> Path:
        """The git dir shared by all worktrees: where derived data lives."""
        git_dir = Path(self.raw.path)
        # A linked worktree's git dir names the shared one in its `commondir` file (pygit2 has no accessor).
        pointer = git_dir / "commondir"
        if pointer.is_file():
            return (git_dir / pointer.read_text(encoding="utf-8").strip()).resolve()
        return git_dir

    def head_branch(self) -> str | None:
        """The branch HEAD points at (even when it has no commit yet), or None when detached."""
        try:
            target = self.raw.references["HEAD"].target
        except KeyError:
            return None
        if isinstance(target, str) and target.startswith("refs/heads/"):
            return target.removeprefix("refs/heads/")
        return None

    def config_value(self, key: str) -> str | None:
        try:
            return self.raw.config[key]
        except KeyError:
            return None

    def resolve(self, rev: str) -> str:
        """The commit sha a revision names (branch, tag, sha, `HEAD~2` …)."""
        try:
            obj = self.raw.revparse_single(rev)
            return str(obj.peel(pygit2.Commit).id)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise NotFound(f"unknown revision '{rev}'") from None

    def branch_tip(self, branch: str) -> str | None:
        try:
            ref = self.raw.references.get(_ref_name(branch))
            return str(ref.peel(pygit2.Commit).id) if ref is not None else None
        except (KeyError, pygit2.GitError):  # deleted by another process between lookup and peel
            return None

    def head_commit(self) -> str | None:
        if self.raw.head_is_unborn:
            return None
        return str(self.raw.head.peel(pygit2.Commit).id)

    def iter_files(self, commit: str, prefix: str) -> Iterator[tuple[str, bytes]]:
        """(path, bytes) of every blob under `prefix` at `commit`, paths relative to the repo."""
        tree = self.raw[commit].peel(pygit2.Tree)
        try:
            sub = tree[prefix]
        except KeyError:
            return
        if sub.type != ObjectType.TREE:
            return
        yield from self._walk(sub, prefix)

    def _walk(self, tree: pygit2.Tree, base: str) -> Iterator[tuple[str, bytes]]:
        for entry in tree:
            path = f"{base}/{entry.name}"
            if entry.type == ObjectType.TREE:
                yield from self._walk(entry, path)
            elif entry.type == ObjectType.BLOB and entry.filemode != FileMode.LINK:
                yield path, entry.data

    def read_file(self, commit: str, path: str) -> bytes | None:
        tree = self.raw[commit].peel(pygit2.Tree)
        try:
            entry = tree[path]
        except KeyError:
            return None
        return entry.data if entry.type == ObjectType.BLOB else None

    def tree_blobs(self, rev: str, prefix: str) -> dict[str, str]:
        """path -> blob sha of every file under `prefix` in a commit or tree, without reading the blobs."""
        tree = self.raw[rev].peel(pygit2.Tree)
        try:
            sub = tree[prefix]
        except KeyError:
            return {}
        out: dict[str, str] = {}
        stack = [(sub, prefix)] if sub.type_str == "tree" else []
        # type_str and an int mode compare: this loop sees every block file, and enum lookups doubled its cost.
        while stack:
            current, base = stack.pop()
            for entry in current:
                kind = entry.type_str
                if kind == "tree":
                    stack.append((entry, f"{base}/{entry.name}"))
                elif kind == "blob" and entry.filemode != _LINK_MODE:
                    out[f"{base}/{entry.name}"] = str(entry.id)
        return out

    def changed_blobs(self, a: str | None, b: str, prefix: str) -> dict[str, tuple[str | None, str | None]]:
        """Files under `prefix` that differ between two commits or trees: path -> (old sha, new sha), None where
        absent. One libgit2 tree diff; no blob is read."""
        old_tree = self.raw[a].peel(pygit2.Tree) if a else None
        new_tree = self.raw[b].peel(pygit2.Tree)
        diff = self.raw.diff(old_tree, new_tree) if old_tree is not None else new_tree.diff_to_tree(swap=True)
        base = prefix.rstrip("/") + "/" if prefix else ""
        out: dict[str, tuple[str | None, str | None]] = {}
        for delta in diff.deltas:
            for file, side in ((delta.old_file, 0), (delta.new_file, 1)):
                if file.path.startswith(base) and file.id != _ZERO_OID:
                    pair = list(out.get(file.path, (None, None)))
                    pair[side] = str(file.id)
                    out[file.path] = (pair[0], pair[1])
        return out

    def read_blob(self, sha: str) -> bytes:
        return self.raw[sha].peel(pygit2.Blob).data

    def index_tree(self, index_file: Path | None = None) -> str:
        """The staged state as a tree object (like `git write-tree`): the user's index, or the given index file.

        Inside a pre-commit hook git names the index being committed in GIT_INDEX_FILE (for `commit -a` that is
        not .git/index), so the hook passes it here.
        """
        index = pygit2.Index(str(index_file)) if index_file is not None else self.raw.index
        if index_file is None:
            index.read()
        return str(index.write_tree(self.raw))

    def staged_changes(self, prefix: str, index_file: Path | None = None) -> dict[str, str | None]:
        """Files under `prefix` whose staged version differs from HEAD: path -> staged blob sha (None: removed).

        `index_file` is the index a pre-commit hook gets in GIT_INDEX_FILE; the repository's own index is
        diffed in libgit2 (a few ms at 10k files), any other index file through a tree written from it.
        """
        head = self.head_commit()
        if index_file is not None and Path(index_file).resolve() != Path(self.raw.path, "index").resolve():
            staged = self.tree_blobs(self.index_tree(index_file), prefix)
            before = self.tree_blobs(head, prefix) if head else {}
            return {p: staged.get(p) for p in staged.keys() | before.keys() if staged.get(p) != before.get(p)}
        index = self.raw.index
        index.read()
        if head is None:
            return self.tree_blobs(self.index_tree(), prefix)
        base = prefix.rstrip("/") + "/"
        out: dict[str, str | None] = {}
        for delta in index.diff_to_tree(self.raw[head].peel(pygit2.Tree)).deltas:
            if delta.new_file.path.startswith(base) or delta.old_file.path.startswith(base):
                # diff_to_tree reports the tree as old and the index as new; a removal has an all-zero new id.
                new = delta.new_file.id
                out[delta.new_file.path] = None if new == pygit2.Oid(hex="0" * 40) else str(new)
        return out

    def worktree_changes(self, folders: Iterable[str]) -> list[str]:
        """Paths under `folders` where HEAD, the index and the work tree disagree, or that are untracked.

        This is `git status`: files whose stat data match the index are not read, so a clean
        10k-file memory root costs a scan, not 10k reads. Ignored files are left out.
        """
        bases = tuple(folder.rstrip("/") + "/" for folder in folders)
        return sorted(path for path in self.raw.status(untracked_files="all") if path.startswith(bases))

    def hooks_dir(self) -> Path:
        """Where git looks for hooks: `core.hooksPath` (relative to the work tree top) or the common dir's hooks/."""
        configured = self.config_value("core.hooksPath")
        if not configured:
            return self.common_dir / "hooks"
        path = Path(configured).expanduser()
        return path if path.is_absolute() else self.workdir / path

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
        tree = self.build_tree(parent, changes)
        sig = author.signature(when)
        commit = self.raw.create_commit(None, sig, sig, message, tree, [pygit2.Oid(hex=parent)] if parent else [])
        self.update_ref(_ref_name(branch), str(commit), parent, f"mindmem: {message.splitlines()[0]}")
        return str(commit)

    def build_tree(self, base: str | None, changes: Mapping[str, bytes | None]) -> pygit2.Oid:
        """The tree of `base` (None: empty) with `changes` applied (None deletes a file; emptied folders go).

        Only the folders on the changed paths are rewritten; every other subtree is reused as it is, so
        one new block in a 10k-block root costs a few tree writes, not 10k index entries.
        """
        entries = {p: None if d is None else (self.raw.create_blob(d), int(FileMode.BLOB)) for p, d in changes.items()}
        return self._rewrite(base, entries)

    def _rewrite(self, base: str | None, entries: Mapping[str, tuple[pygit2.Oid, int] | None]) -> pygit2.Oid:
        """The tree of `base` with these entries set to (object id, file mode), or removed where None."""
        nested: dict[str, Any] = {}
        for path, entry in entries.items():
            *folders, name = path.split("/")
            node = nested
            for folder in folders:
                node = node.setdefault(folder, {})
            node[name] = entry
        root = self.raw[base].peel(pygit2.Tree) if base else None
        tree = self._tree_with(root, nested)
        return tree if tree is not None else self.raw.TreeBuilder().write()

    def _tree_with(self, tree: pygit2.Tree | None, changes: Mapping[str, Any]) -> pygit2.Oid | None:
        builder = self.raw.TreeBuilder(tree) if tree is not None else self.raw.TreeBuilder()
        for name, change in changes.items():
            if isinstance(change, dict):
                entry = builder.get(name)
                sub = (
                    self.raw[entry.id].peel(pygit2.Tree)
                    if entry is not None and entry.type == ObjectType.TREE
                    else None
                )
                oid = self._tree_with(sub, change)
                if oid is not None:
                    builder.insert(name, oid, FileMode.TREE)
                elif sub is not None:
                    builder.remove(name)
            elif change is None:
                if builder.get(name) is not None:
                    builder.remove(name)
            else:
                builder.insert(name, *change)
        return builder.write() if len(builder) else None  # git has no empty folders

    def update_ref(self, name: str, new: str, old: str | None, message: str) -> None:
        """Point `name` at `new` only if it still points at `old` (None: only if it does not exist)."""
        refs = self.raw.references
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
            with self.raw.transaction() as txn:
                for name in sorted(updates):
                    txn.lock_ref(name)
                for name, (old, new) in updates.items():
                    ref = self.raw.references.get(name)
                    if (str(ref.target) if ref is not None else None) != old:
                        raise RefConflict(f"{name} moved while mm was writing; nothing was overwritten, try again")
                    if new is None:
                        txn.remove(name)
                    else:
                        txn.set_target(name, new, message=message)
        except (pygit2.GitError, OSError) as exc:
            raise RefConflict(f"could not update {', '.join(updates)}: {exc}; nothing was overwritten") from None

    def stage_paths(self, paths: list[str]) -> None:
        """Make the user's index agree with the work tree for exactly these paths."""
        with self._index_update() as index:
            for path in paths:
                if (self.workdir / path).exists():
                    index.add(path)
                elif path in index:
                    index.remove(path)

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """Hold an exclusive lock shared by every mm process on this repository (an flock, which the
        kernel releases if mm is killed, so a dead process never leaves it stuck)."""
        import fcntl

        lock = gitdir.lock(self, name)
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    @contextlib.contextmanager
    def _index_update(self) -> Iterator[pygit2.Index]:
        """The user's index, read fresh and written back with no other mm process in between.

        git's index.lock only makes a second writer fail; it does not stop two read-modify-write
        cycles from overlapping, where the later write drops the earlier one's entries (seen with
        eight concurrent approvals). The lock queues them.
        """
        with self.locked("index-update"):
            index = self.raw.index
            index.read()
            yield index
            for _ in range(100):  # a git command may hold index.lock for a moment
                try:
                    index.write()
                    return
                except (pygit2.GitError, OSError):
                    time.sleep(0.05)
            raise StateError("another git process holds .git/index.lock; the index was not updated, see `git status`")

    # -- history and governance ------------------------------------------------

    def commit_info(self, sha: str) -> CommitInfo:
        commit = self.raw[sha].peel(pygit2.Commit)
        return CommitInfo(
            sha=str(commit.id),
            parents=tuple(str(p) for p in commit.parent_ids),
            message=commit.message,
            author=Person(commit.author.name, commit.author.email),
            time=commit.commit_time,
            tree=str(commit.tree_id),
        )

    def walk(self, tip: str, *, first_parent: bool = False) -> Iterator[CommitInfo]:
        """Commits reachable from `tip`, newest first."""
        walker = self.raw.walk(pygit2.Oid(hex=tip), pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME)
        if first_parent:
            walker.simplify_first_parent()
        for commit in walker:
            yield self.commit_info(str(commit.id))

    def commits_between(self, base: str | None, head: str) -> list[str]:
        """The commits in base..head (reachable from head, not from base), oldest first, like `git rev-list`."""
        walker = self.raw.walk(pygit2.Oid(hex=head), pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
        if base:
            walker.hide(pygit2.Oid(hex=base))
        return [str(commit.id) for commit in walker]

    def merge_base(self, a: str, b: str) -> str | None:
        base = self.raw.merge_base(pygit2.Oid(hex=a), pygit2.Oid(hex=b))
        return str(base) if base else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor == descendant or self.raw.descendant_of(pygit2.Oid(hex=descendant), pygit2.Oid(hex=ancestor))

    def changed_paths(self, a: str | None, b: str, prefix: str = "") -> dict[str, tuple[bytes | None, bytes | None]]:
        """Files under `prefix` that differ between `a` (None: empty tree) and `b`: path -> (old, new).

        `a` and `b` may name commits or trees.
        """
        old_tree = self.raw[a].peel(pygit2.Tree) if a else None
        new_tree = self.raw[b].peel(pygit2.Tree)
        diff = self.raw.diff(old_tree, new_tree) if old_tree is not None else new_tree.diff_to_tree(swap=True)
        out: dict[str, tuple[bytes | None, bytes | None]] = {}
        base = prefix.rstrip("/") + "/" if prefix else ""
        for delta in diff.deltas:
            for file, side in ((delta.old_file, 0), (delta.new_file, 1)):
                if not file.path.startswith(base) or file.id == pygit2.Oid(hex="0" * 40):
                    continue
                pair = list(out.get(file.path, (None, None)))
                pair[side] = self.raw[file.id].data
                out[file.path] = (pair[0], pair[1])
        return out

    def changed_names(self, a: str | None, b: str) -> list[str]:
        """Every path that differs between two commits or trees, without reading a blob."""
        return list(self.changed_blobs(a, b, ""))

    def has_commit(self, sha: str) -> bool:
        try:
            self.raw[sha].peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            return False
        return True

    def merge_tree(self, base: str, ours: str, theirs: str) -> tuple[str | None, list[str]]:
        """Three-way merge of commits in memory: (tree sha, []) or (None, conflicting paths).

        When no path changed on both sides (the usual case: one block per file), the merge is `ours`
        with the entries `theirs` changed, written along those paths only. libgit2's merge, which
        rewrites every folder (~75 ms at 10k blocks), runs only when both sides touched a path.
        """
        mine, other = self._entry_changes(base, theirs), self._entry_changes(base, ours)
        touched = mine.keys() | other.keys()
        folders = {path.rsplit("/", k)[0] for path in touched for k in range(1, path.count("/") + 1)}
        if not mine.keys() & other.keys() and not folders & touched:  # no shared path, no file/folder swap
            return str(self._rewrite(ours, mine)), []
        index = self.raw.merge_trees(
            self.raw[base].peel(pygit2.Tree), self.raw[ours].peel(pygit2.Tree), self.raw[theirs].peel(pygit2.Tree)
        )
        return _tree_or_conflicts(self.raw, index)

    def _entry_changes(self, a: str, b: str) -> dict[str, tuple[pygit2.Oid, int] | None]:
        """path -> (object id, file mode) in `b`, or None where `b` removed it, for every path that differs."""
        diff = self.raw.diff(self.raw[a].peel(pygit2.Tree), self.raw[b].peel(pygit2.Tree))
        out: dict[str, tuple[pygit2.Oid, int] | None] = {}
        for delta in diff.deltas:
            removed = delta.status == pygit2.enums.DeltaStatus.DELETED
            out[delta.old_file.path if removed else delta.new_file.path] = (
                None if removed else (delta.new_file.id, int(delta.new_file.mode))
            )
        return out

    def revert_tree(self, commit: str, onto: str, mainline: int) -> tuple[str | None, list[str]]:
        """The tree of `onto` with `commit` reverted (mainline 1 for a merge): (tree, []) or (None, conflicts)."""
        reverted, target = self.raw[commit].peel(pygit2.Commit), self.raw[onto].peel(pygit2.Commit)
        index = self.raw.revert_commit(reverted, target, mainline)
        return _tree_or_conflicts(self.raw, index)

    def tree_with(self, base: str, changes: Mapping[str, bytes | None]) -> str:
        return str(self.build_tree(base, changes))

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
        author_sig = author.signature()
        committer_sig = (committer or author).signature(author_sig.time)
        parent_ids = [pygit2.Oid(hex=p) for p in parents]
        tree_id = pygit2.Oid(hex=tree)
        if sign is None:
            return str(self.raw.create_commit(None, author_sig, committer_sig, message, tree_id, parent_ids))
        content = self.raw.create_commit_string(author_sig, committer_sig, message, tree_id, parent_ids)
        return str(self.raw.create_commit_with_signature(content, sign(content.encode())))

    def refs(self, prefix: str) -> dict[str, str]:
        """Branches under `prefix` (e.g. "proposals/") -> tip sha."""
        out = {}
        for name in self.raw.references:
            if name.startswith("refs/heads/" + prefix):
                tip = self.branch_tip(name)
                if tip is not None:  # None: another process deleted it since the listing
                    out[name.removeprefix("refs/heads/")] = tip
        return out

    def delete_ref(self, branch: str, old: str) -> None:
        """Delete a branch only if it still points at `old`."""
        name = _ref_name(branch)
        ref = self.raw.references.get(name)
        if ref is None or str(ref.target) != old:
            raise RefConflict(f"{name} moved while mm was working; it was left as it is")
        try:
            ref.delete()
        except (pygit2.GitError, OSError):
            raise RefConflict(f"{name} is locked by another writer; it was left as it is") from None

    def worktree_state(self, path: str) -> tuple[bytes | None, str | None]:
        """(work tree bytes, index blob sha) of one path; None where absent."""
        try:
            data = (self.workdir / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            data = None
        with self.locked("index-update"):  # never read an index another mm process is writing
            index = self.raw.index
            index.read()
            return data, (str(index[path].id) if path in index else None)

    def blob_sha(self, data: bytes) -> str:
        return str(pygit2.hash(data))

    def refresh_paths(self, new_commit: str, paths: list[str]) -> None:
        """Make work tree and index match `new_commit` for exactly these paths (callers check they are clean)."""
        tree = self.raw[new_commit].peel(pygit2.Tree)
        with self._index_update() as index:
            for path in paths:
                try:
                    entry = tree[path]
                except KeyError:
                    entry = None
                full = self.workdir / path
                if entry is None:
                    full.unlink(missing_ok=True)
                    if path in index:
                        index.remove(path)
                else:
                    # Paths outside the memory root (a fast-forward of a project repo) may be scripts or links.
                    if entry.filemode == FileMode.LINK:
                        full.unlink(missing_ok=True)
                        full.symlink_to(entry.data.decode())
                    else:
                        atomic_write(full, entry.data)
                        if entry.filemode == FileMode.BLOB_EXECUTABLE:
                            full.chmod(0o755)
                    index.add(pygit2.IndexEntry(path, entry.id, entry.filemode))

    # -- remotes: the real git binary, so transports, credentials and hooks are git's own ------------------

    def remote_url(self, remote: str) -> str | None:
        """The URL a remote is configured with, or None when there is no such remote."""
        try:
            return self.raw.remotes[remote].url
        except (KeyError, ValueError):
            return None

    def remote_tips(self, remote: str, prefix: str) -> dict[str, str]:
        """Remote-tracking branches refs/remotes/REMOTE/<prefix>… -> tip sha, keyed by the branch name."""
        base = f"refs/remotes/{remote}/"
        return {
            name.removeprefix(base): str(self.raw.references[name].peel(pygit2.Commit).id)
            for name in self.raw.references
            if name.startswith(base + prefix)
        }

    def ls_remote(self, remote: str, refs: list[str]) -> dict[str, str]:
        """Which of these full ref names the remote has -> sha (one `git ls-remote`)."""
        out = self._git("ls-remote", "--refs", remote, *refs, what=f"list the refs of {remote}")
        found = {ref: sha for sha, ref in (line.split("\t", 1) for line in out.splitlines() if "\t" in line)}
        return {ref: found[ref] for ref in refs if ref in found}

    def fetch(self, remote: str, refspecs: list[str]) -> None:
        """`git fetch --prune` of exactly these refspecs (into remote-tracking refs); no tags."""
        self._git("fetch", "--quiet", "--no-tags", "--prune", remote, *refspecs, what=f"fetch from {remote}")

    def push(self, remote: str, refspecs: list[str], leases: Mapping[str, str]) -> None:
        """One atomic, never forced `git push`: every ref moves or none does.

        The remote refuses anything that is not a fast-forward. `leases` (full ref -> expected sha) guard
        deletions: a ref is only deleted if the remote still has the value it was seen with.
        """
        lease_args = [f"--force-with-lease={ref}:{sha}" for ref, sha in leases.items()]
        done = self._run("push", "--atomic", "--porcelain", *lease_args, remote, *refspecs)
        if done.returncode != 0:
            refused = [line.split("\t")[1:] for line in done.stdout.splitlines() if line.startswith("!")]
            reasons = "; ".join(" ".join(parts) for parts in refused) or _git_reason(done.stderr)
            raise RefConflict(f"{remote} refused the push ({reasons}); nothing was pushed")

    def _git(self, *args: str, what: str) -> str:
        done = self._run(*args)
        if done.returncode != 0:
            raise StateError(f"could not {what}: {_git_reason(done.stderr)}")
        return done.stdout

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in GIT_LOCATION_VARS}
        cmd = ["git", f"--git-dir={self.raw.path}", *args]
        # A relative remote URL is relative to the top of the work tree, as when the user runs git there.
        cwd = self.raw.workdir or self.raw.path
        try:
            return subprocess.run(
                cmd, cwd=cwd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False
            )
        except FileNotFoundError:
            raise StateError("the `git` program is not installed; it is needed to talk to remotes") from None


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    parents: tuple[str, ...]
    message: str
    author: Person
    time: int
    tree: str


def _tree_or_conflicts(raw: pygit2.Repository, index: pygit2.Index) -> tuple[str | None, list[str]]:
    if index.conflicts is not None:
        paths = sorted({(ours or theirs or base).path for base, ours, theirs in index.conflicts})
        return None, paths
    return str(index.write_tree(raw)), []


def _git_reason(err: str) -> str:
    """The line of git's stderr that says what went wrong: its first fatal/error line, else its last line."""
    lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
    reasons = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    return (reasons or lines or ["no error message"])[0 if reasons else -1]


def _ref_name(branch: str) -> str:
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"
