"""The work tree and the user's index: what is staged or changed, and bringing paths in line with a commit."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pygit2
from pygit2.enums import FileMode

from mindmem.errors import StateError
from mindmem.store.files import atomic_write
from mindmem.store.git.base import EMPTY_TREE, ZERO_OID
from mindmem.store.git.lock import Locks
from mindmem.store.git.objects import Objects
from mindmem.store.git.refs import Refs


class WorkTree(Objects, Refs, Locks):
    @property
    def is_bare(self) -> bool:
        return bool(self._raw.is_bare)

    @property
    def workdir(self) -> Path:
        if self._raw.is_bare or not self._raw.workdir:
            raise StateError("this command needs a work tree; the repository is bare")
        return Path(self._raw.workdir)

    def hooks_dir(self) -> Path:
        """Where git looks for hooks: `core.hooksPath` (relative to the work tree top) or the common dir's hooks/."""
        configured = self.config_value("core.hooksPath")
        if not configured:
            return self.common_dir / "hooks"
        path = Path(configured).expanduser()
        return path if path.is_absolute() else self.workdir / path

    def staged_changes(self, prefix: str, index_file: Path | None = None) -> dict[str, str | None]:
        """Files under `prefix` whose staged version differs from HEAD: path -> staged blob sha (None: removed).

        `index_file` is the index a pre-commit hook gets in GIT_INDEX_FILE. One `git diff-index`: git
        skips every unchanged folder through the index's cached trees, where libgit2 reads and compares
        every entry (about 50 ms against 300 ms for a 100,000-file index).
        """
        env = {"GIT_INDEX_FILE": str(Path(index_file).resolve())} if index_file is not None else {}
        against = self.head_commit() or EMPTY_TREE
        done = self._run("diff-index", "--cached", "-z", "--no-abbrev", against, "--", f":(literal){prefix}", env=env)
        if done.returncode != 0:
            raise StateError(f"could not read the staged changes: {done.stderr.strip() or 'git diff-index failed'}")
        fields = done.stdout.split("\0")
        out: dict[str, str | None] = {}
        # Each change is ":old-mode new-mode old-sha new-sha status" then the path; a removal's new sha is zeros.
        for meta, path in zip(fields[0:-1:2], fields[1::2], strict=True):
            new = meta.split()[3]
            out[path] = None if new == str(ZERO_OID) else new
        return out

    def worktree_changes(self, folders: Iterable[str]) -> list[str]:
        """Paths under `folders` where HEAD, the index and the work tree disagree, or that are untracked.

        This is `git status`: files whose stat data match the index are not read, so a clean
        10k-file memory root costs a scan, not 10k reads. Ignored files are left out.
        """
        bases = tuple(folder.rstrip("/") + "/" for folder in folders)
        return sorted(path for path in self._raw.status(untracked_files="all") if path.startswith(bases))

    def vouched_blobs(self, prefix: str, names: str) -> tuple[dict[str, str], list[str]] | None:
        """What git vouches for under `prefix` without the files being read: (path -> index blob sha of
        each tracked regular file named as the regex `names` says, outside dot-folders, whose stat
        data still match the index; and every other file there, whose bytes git cannot vouch for:
        untracked, modified, flagged assume-unchanged or skip-worktree, or not a plain file). None
        when git does not list every file under `prefix` (a nested repository or a submodule inside
        it), so the caller walks the folder itself.

        Git's own stat check in C, as for `git status`: at 100,000 files it costs about a quarter of
        a Python walk that stats every file. Racy entries are compared by content, by git.
        """
        spec = f":(literal){prefix}"
        commands = (
            ("ls-files", "-s", "-v", "-z", "--", spec),
            ("diff-files", "--name-only", "-z", "--", spec),
            ("ls-files", "--others", "-z", "--", spec),
        )
        with ThreadPoolExecutor(len(commands)) as pool:  # git does the work; two of them stat every file
            done = list(pool.map(lambda args: self._run(*args), commands))
        if any(d.returncode != 0 for d in done):
            return None
        listing, changed, untracked = done[0].stdout, done[1].stdout.split("\0"), done[2].stdout.split("\0")[:-1]
        if " 160000 " in listing or any(path.endswith("/") for path in untracked):
            return None  # a submodule or nested repository (git does not list the files in it), or a path like one
        stale = set(changed)
        # Lines "TAG MODE SHA STAGE\tPATH\0": tag H is a plain cached entry (lowercase: assume-unchanged,
        # S: skip-worktree), stage 0 no merge conflict. One regex, not Python per line: 100,000 lines.
        wanted = rf"{re.escape(prefix)}/(?:[^\0/.][^\0/]*/)*{names}"
        plain = re.compile(rf"(?:^|\0)H 100(?:644|755) ([0-9a-f]+) 0\t({wanted})(?=\0)")
        vouched = {path: sha for sha, path in plain.findall(listing) if path not in stale}
        unsure = {path for path in _LISTED_PATH.findall(listing) if path not in vouched}
        return vouched, sorted(unsure.union(untracked))

    def worktree_state(self, path: str) -> tuple[bytes | None, str | None]:
        """(work tree bytes, index blob sha) of one path; None where absent."""
        try:
            data = (self.workdir / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            data = None
        with self.locked("index-update"):  # never read an index another mm process is writing
            index = self._raw.index
            index.read(force=False)  # re-read only if the file changed (libgit2 compares its checksum)
            return data, (str(index[path].id) if path in index else None)

    def stage_paths(self, paths: list[str]) -> None:
        """Make the user's index agree with the work tree for exactly these paths."""
        with self._index_update() as index:
            for path in paths:
                if (self.workdir / path).exists():
                    index.add(path)
                elif path in index:
                    index.remove(path)

    def refresh_paths(self, new_commit: str, paths: list[str]) -> None:
        """Make work tree and index match `new_commit` for exactly these paths (callers check they are clean)."""
        tree = self._peel(new_commit, pygit2.Tree)
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
                    _checkout(full, entry)
                    index.add(pygit2.IndexEntry(path, entry.id, entry.filemode))

    @contextlib.contextmanager
    def _index_update(self) -> Iterator[pygit2.Index]:
        """The user's index, read fresh and written back with no other mm process in between.

        git's index.lock only makes a second writer fail; it does not stop two read-modify-write
        cycles from overlapping, where the later write drops the earlier one's entries (seen with
        eight concurrent approvals). The lock queues them.
        """
        with self.locked("index-update"):
            index = self._raw.index
            index.read(force=False)  # 100,000 entries take 150 ms to read: only when the file changed
            yield index
            for _ in range(100):  # a git command may hold index.lock for a moment
                try:
                    index.write()
                    return
                except (pygit2.GitError, OSError):
                    time.sleep(0.05)
            raise StateError("another git process holds .git/index.lock; the index was not updated, see `git status`")


_LISTED_PATH = re.compile(r"\t([^\0]*)")


def _checkout(full: Path, entry: pygit2.Object) -> None:
    # Paths outside the memory root (a fast-forward of a project repo) may be scripts or links.
    if entry.filemode == FileMode.LINK:
        full.unlink(missing_ok=True)
        full.symlink_to(entry.data.decode())
    else:
        atomic_write(full, entry.data)
        if entry.filemode == FileMode.BLOB_EXECUTABLE:
            full.chmod(0o755)
