"""The work tree and the user's index: what is staged or changed, and bringing paths in line with a commit."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from mmap import ACCESS_READ, mmap
from pathlib import Path

import pygit2
from pygit2.enums import FileMode

from mindmem.errors import StateError
from mindmem.store.files import atomic_write
from mindmem.store.git.base import ZERO_OID
from mindmem.store.git.lock import Locks
from mindmem.store.git.objects import Objects
from mindmem.store.git.refs import Refs

# Index entries with merge conflicts have this in place of a blob id: it equals none.
UNMERGED = "unmerged"
# What git vouches for in the work tree (`vouched_blobs`): (path -> blob id, paths to look at).
Vouched = tuple[dict[str, str], list[str]]
# Paths per `git ls-files` call, well inside the limits on a command line.
PATHS_PER_CALL = 500


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

    def worktree_changes(self, folders: Iterable[str]) -> list[str]:
        """Paths under `folders` where HEAD, the index and the work tree disagree, or that are untracked.

        This is `git status`: files whose stat data match the index are not read, so a clean
        10k-file memory root costs a scan, not 10k reads. Ignored files are left out. The git binary
        compares HEAD with the index through the index's cached trees, where libgit2 walks every
        entry: 400 ms of CPU against 520 ms at 100,000 files, most of it one lstat per file.
        """
        bases = tuple(folder.rstrip("/") + "/" for folder in folders)
        specs = [f":(literal){folder.rstrip('/')}" for folder in folders]
        # No optional locks: mm only reads here, and must not hold index.lock against the user's git.
        done = self._run("--no-optional-locks", "status", "--porcelain", "-z", "-uall", "--no-renames", "--", *specs)
        if done.returncode != 0:
            raise StateError(f"could not read the work tree's status: {done.stderr.strip() or 'git status failed'}")
        # Each entry is "XY path"; the status letters are not needed, only that the path is listed.
        return sorted(path for entry in done.stdout.split("\0") if (path := entry[3:]) and path.startswith(bases))

    def vouched_blobs(self, prefix: str, names: str) -> Callable[[], Vouched | None]:
        """Ask git what it vouches for under `prefix` without the files being read; the git processes
        run while the caller does other work, and calling the result waits for the answer: (path ->
        index blob sha of each tracked regular file named as the regex `names` says, outside
        dot-folders, whose stat data still match the index; and every other file there, whose bytes
        git cannot vouch for: untracked, modified, flagged assume-unchanged or skip-worktree, or not
        a plain file). None when git does not list every file under `prefix` (a nested repository
        or a submodule inside it), so the caller walks the folder itself.

        Git's own stat check in C, as for `git status`: at 100,000 files it costs about a quarter of
        a Python walk that stats every file. Racy entries are compared by content, by git.
        """
        spec = f":(literal){prefix}"
        asked = [  # all three at once: two of them stat every file
            self._start("ls-files", "-s", "-v", "-z", "--", spec),
            self._start("diff-files", "--name-only", "-z", "--", spec),
            self._start("ls-files", "--others", "-z", "--", spec),
        ]

        def answer() -> Vouched | None:
            listing, changed, untracked = (process.communicate()[0] for process in asked)
            if any(process.returncode != 0 for process in asked):
                return None
            changed, untracked = changed.split("\0"), untracked.split("\0")[:-1]
            if " 160000 " in listing or any(path.endswith("/") for path in untracked):
                return None  # a submodule or nested repository (git does not list the files in it), or a path like one
            stale = set(changed)
            # Lines "TAG MODE SHA STAGE\tPATH\0": tag H is a plain cached entry (lowercase: assume-unchanged,
            # S: skip-worktree), stage 0 no merge conflict. One regex, not Python per line: 100,000 lines.
            wanted = rf"{re.escape(prefix)}/(?:[^\0/.][^\0/]*/)*{names}"
            plain = re.compile(rf"(?:^|\0)H 100(?:644|755) ([0-9a-f]+) 0\t({wanted})(?=\0)")
            vouched = {path: sha for sha, path in plain.findall(listing) if path not in stale}
            unsure = {path for path in _LISTED_PATH.findall(listing) if path not in vouched}
            # A file another process adds to the index while git lists it can show in both listings.
            return vouched, sorted(unsure.union(untracked).difference(vouched))

        return answer

    def worktree_file(self, path: str) -> bytes | None:
        """The bytes of one file of the work tree; None when there is no such file."""
        try:
            return (self.workdir / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def staged_blobs(self, paths: list[str]) -> dict[str, str]:
        """path -> blob id in the user's index, for those of these paths it holds; a path with merge
        conflicts has the id UNMERGED, which no blob has.

        Through `git ls-files`: git reads a 100,000-entry index in 20 ms of CPU, libgit2 in 80 ms. git
        replaces the index file by a rename, so no reader sees half of one."""
        return {path: sha for path, (_mode, sha) in self._index_entries(paths).items()}

    def index_size(self) -> int:
        """How many entries the checkout's git index file holds, from its header (0 without one). A split
        index counts only its own part: the shared part is not rewritten on each write."""
        try:
            with open(self._git_dir / "index", "rb") as handle:
                header = handle.read(12)
        except OSError:
            return 0
        return int.from_bytes(header[8:12], "big") if header[:4] == b"DIRC" else 0

    def _index_entries(self, paths: list[str]) -> dict[str, tuple[str, str]]:
        """path -> (octal mode, blob id or UNMERGED) of those of these paths the index holds."""
        out: dict[str, tuple[str, str]] = {}
        asked = self._maybe_indexed(paths)
        wanted = set(asked)
        for start in range(0, len(asked), PATHS_PER_CALL):
            chunk = [f":(literal){p}" for p in asked[start : start + PATHS_PER_CALL]]
            done = self._run("ls-files", "--stage", "-z", "--", *chunk)
            if done.returncode != 0:
                raise StateError(f"could not read the index: {done.stderr.strip() or 'git ls-files failed'}")
            # Each entry is "mode sha stage<TAB>path"; a literal pathspec also lists the files under a folder.
            for entry in filter(None, done.stdout.split("\0")):
                meta, path = entry.split("\t", 1)
                if path in wanted:
                    mode, sha, stage = meta.split()
                    out[path] = (mode, sha if stage == "0" else UNMERGED)
        return out

    def _maybe_indexed(self, paths: list[str]) -> list[str]:
        """Those of `paths` the user's index may hold; the others it certainly does not.

        An index of version 2 or 3 stores each entry's whole path followed by a NUL, so a path whose bytes
        appear nowhere in the file has no entry: a search of the file (2 ms per path at 100,000 entries)
        spares the git process that parses it (20 ms), for new files, which approvals mostly write. A split
        index keeps most entries in a `sharedindex.*` file beside it (a removed or replaced one keeps its
        path there too), so every such file is searched as well. A sparse checkout may fold a folder into
        one entry: then, as for any file that does not read as an index of version 2 or 3, git is asked.
        """
        git_dir = self._git_dir
        if not paths or self.config_value("core.sparseCheckout") or self.config_value("index.sparse"):
            return paths
        unsure: set[str] = set()
        try:
            shared = [git_dir / name for name in os.listdir(git_dir) if name.startswith("sharedindex.")]
            for index in [git_dir / "index", *shared]:
                with open(index, "rb") as handle, mmap(handle.fileno(), 0, access=ACCESS_READ) as data:
                    if data[:4] != b"DIRC" or int.from_bytes(data[4:8], "big") not in (2, 3):
                        return paths
                    unsure.update(path for path in paths if data.find(os.fsencode(path) + b"\0") >= 0)
        except (OSError, ValueError):  # no index yet, or an empty file (which mmap refuses)
            return paths
        return [path for path in paths if path in unsure]

    def stage_paths(self, paths: list[str]) -> None:
        """Make the user's index agree with the work tree for exactly these paths."""
        self._update_index(["--add", "--remove", "-z", "--stdin"], "".join(f"{p}\0" for p in paths))

    def refresh_paths(self, new_commit: str, paths: list[str], *, skip_matching: bool = False) -> None:
        """Make work tree and index match `new_commit` for exactly these paths (callers check they are clean).

        The index gets the exact blob of each path (`git update-index --index-info`), not whatever the
        file holds by the time git would read it back. git rewrites the whole index even when nothing
        in it changes (55 ms at 100,000 files), so `skip_matching` reads the entries first (20 ms) and
        writes only those that differ: for paths that are mostly untracked or changed only in the work tree.
        """
        with self.refreshing(new_commit, paths, skip_matching=skip_matching):
            pass

    @contextlib.contextmanager
    def refreshing(self, new_commit: str, paths: list[str], *, skip_matching: bool = False) -> Iterator[None]:
        """`refresh_paths`, with git's rewrite of the index running while the body of the `with` runs: the
        files are written on entry, and the exit waits for git (and raises what `refresh_paths` would).
        git reads and rewrites the whole index (80 ms of CPU at 100,000 files) on the other core meanwhile."""
        tree = self._peel(new_commit, pygit2.Tree)
        lines = {}
        for path in paths:
            try:
                entry = tree[path]
            except KeyError:
                entry = None
            full = self.workdir / path
            if entry is None:
                full.unlink(missing_ok=True)
                lines[path] = None
            else:
                _checkout(full, entry)
                lines[path] = (f"{entry.filemode:o}", str(entry.id))
        if skip_matching:
            held = self._index_entries(paths)
            lines = {path: want for path, want in lines.items() if held.get(path) != want}
        if not lines:
            yield
            return
        # "mode sha<TAB>path" per entry; mode 0 removes one.
        info = (f"{want[0]} {want[1]}\t{p}\0" if want else f"0 {ZERO_OID}\t{p}\0" for p, want in lines.items())
        with self._updating_index(["-z", "--index-info"], "".join(info)):
            yield

    def _update_index(self, args: list[str], paths: str) -> None:
        with self._updating_index(args, paths):
            pass

    @contextlib.contextmanager
    def _updating_index(self, args: list[str], paths: str) -> Iterator[None]:
        """One `git update-index` (which holds index.lock from reading the index to writing it back), with
        no other mm process in between, running while the body of the `with` runs. Through git: libgit2
        takes 80 ms of CPU to read a 100,000-entry index and 47 ms to write it, git 53 ms for both."""
        with self.locked("index-update"):
            finish = self._in_background("update-index", *args, stdin=paths)
            try:
                yield
            finally:
                done = finish()
            for _ in range(100):  # another git command may hold index.lock for a moment
                if done.returncode == 0:
                    return
                if "index.lock" not in done.stderr:
                    raise StateError(f"could not update the index: {done.stderr.strip()}; see `git status`")
                time.sleep(0.05)
                done = self._run("update-index", *args, stdin=paths)
        raise StateError("another git process holds .git/index.lock; the index was not updated, see `git status`")

    def _in_background(self, *args: str, stdin: str) -> Callable[[], subprocess.CompletedProcess[str]]:
        """Start the git binary with `stdin` as its input; calling the result waits for it to end. A thread
        feeds the input and collects the output, so neither side can block on a full pipe."""
        process = self._start(*args, feed=True)
        found: list[tuple[str, str]] = []
        feeder = threading.Thread(target=lambda: found.append(process.communicate(stdin)), daemon=True)
        feeder.start()

        def finish() -> subprocess.CompletedProcess[str]:
            feeder.join()
            out, err = found[0] if found else ("", "mm could not talk to git update-index")
            return subprocess.CompletedProcess(process.args, process.wait(), out, err)

        return finish


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
