"""`LazyRepo`: the git facade, with libgit2 loaded only when a command needs it.

Loading pygit2 costs about 100 ms of a new process (its extension, libgit2 and `ssl`), which is a
third of `mm check --staged`, the pre-commit hook. That command reads a handful of things: where the
repository is, HEAD and a branch tip, a few blobs and files, a commit's tree, a tree's listing or a
diff of two, the staged diff; `mm list` reads the work tree through git's stat check (`vouched_blobs`).
Those go through the git binary here (`rev-parse` once, one `cat-file --batch` for objects, `ls-tree`,
`diff-tree`, `diff-index`, `ls-files` and `diff-files`), and its locks are flocks. Anything else
opens the full facade (`mindmem.store.repo.GitRepo`) on first use; from then on every call goes
there, so one command never mixes two views of a repository that its own writes are changing.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mindmem.errors import NotFound, StateError
from mindmem.store.git.binary import raw_changes, start_git
from mindmem.store.git.lock import Locks
from mindmem.store.git.values import EMPTY_TREE, CommitInfo, Person, ref_name

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo

_Method = TypeVar("_Method", bound=Callable[..., Any])
_OWN = ("_dir", "_top", "_full", "_batch", "_stop_batch")


def discover(start: Path) -> LazyRepo | GitRepo:
    """The repository at or above `start`: a `LazyRepo`, or the pygit2 facade itself when this process has
    loaded libgit2 already (an MCP server, a second command in one process), whose in-process reads
    cost less than a child's start. Either answers every read the same way."""
    if "pygit2" in sys.modules:
        from mindmem.store.repo import GitRepo

        return GitRepo.discover(start)
    return LazyRepo.discover(start)


def _light(method: _Method) -> _Method:
    """A read answered through the git binary until the full facade is open, then by the facade."""

    @functools.wraps(method)
    def read(self: LazyRepo, *args: Any, **kwargs: Any) -> Any:
        if self._full is not None:
            return getattr(self._full, method.__name__)(*args, **kwargs)
        return method(self, *args, **kwargs)

    return read  # type: ignore[return-value]


class LazyRepo(Locks):
    """The git facade (`GitRepo`'s operations), opened on first need; see the module docstring."""

    def __init__(self, git_dir: Path, workdir: Path) -> None:
        self._dir = git_dir
        self._top = workdir
        self._full: GitRepo | None = None
        self._batch: subprocess.Popen[bytes] | None = None
        self._stop_batch: weakref.finalize | None = None

    @classmethod
    def discover(cls, start: Path) -> LazyRepo | GitRepo:
        """The repository at or above `start`. A bare repository, a start inside the git dir and every
        failure take libgit2's discovery (`GitRepo.discover`), which says what is wrong."""
        if start.is_dir():  # git cannot be started in a folder that is not there
            found = start_git(["git", "rev-parse", "--absolute-git-dir", "--show-toplevel"], start)
            out, _ = found.communicate()
            lines = out.splitlines()
            if found.returncode == 0 and len(lines) == 2:
                return cls(Path(lines[0]), Path(lines[1]))
        from mindmem.store.repo import GitRepo

        return GitRepo.discover(start)

    @property
    def full(self) -> GitRepo:
        """The pygit2 facade on the same repository (opened now if it is not yet)."""
        if self._full is None:
            from mindmem.store.repo import GitRepo

            self.close()
            self._full = GitRepo.open(self._dir)
        return self._full

    def __getattr__(self, name: str) -> Any:
        # Only called for what this class does not define: every other operation of the facade.
        if name.startswith("__") or name in _OWN:  # _OWN: not set yet (a copy being made)
            raise AttributeError(name)
        return getattr(self.full, name)

    def close(self) -> None:
        """Stop the `cat-file` child, if one runs (also done when the object is collected)."""
        if self._stop_batch is not None:
            self._stop_batch()
            self._batch = self._stop_batch = None

    @property
    def _git_dir(self) -> Path:
        return self._dir

    @property
    def _cwd(self) -> Path:
        return self._top

    @property
    def workdir(self) -> Path:
        return self._top

    @_light
    def head_branch(self) -> str | None:
        """The branch HEAD points at (even when it has no commit yet), or None when detached."""
        head = (self._dir / "HEAD").read_text(encoding="utf-8").strip()
        return head.removeprefix("ref: refs/heads/") if head.startswith("ref: refs/heads/") else None

    @_light
    def head_commit(self) -> str | None:
        found = self._object("HEAD^{commit}")
        return found[0] if found else None

    @_light
    def branch_tip(self, branch: str) -> str | None:
        found = self._object(f"{ref_name(branch)}^{{commit}}")
        return found[0] if found else None

    @_light
    def read_blob(self, sha: str) -> bytes:
        """A blob's bytes; NotFound when the object does not exist (or is not a blob)."""
        found = self._object(sha)
        if found is None or found[1] != "blob":
            raise NotFound(f"no git blob {sha} in this repository")
        return found[2]

    @_light
    def read_file(self, commit: str, path: str) -> bytes | None:
        if self._object(f"{commit}^{{tree}}") is None:
            raise NotFound(f"no git tree {commit} in this repository")
        found = self._object(f"{commit}:{path}")
        return found[2] if found is not None and found[1] == "blob" else None

    @_light
    def commit_info(self, sha: str) -> CommitInfo:
        found = self._object(sha)
        if found is None or found[1] != "commit":
            raise NotFound(f"no git commit {sha} in this repository")
        return parse_commit(found[0], found[2])

    @_light
    def tree_blobs(self, rev: str, prefix: str) -> dict[str, str]:
        """path -> blob sha of every file (not symlink) under `prefix` in a commit or tree; no blob is read."""
        if self._object(f"{rev}^{{tree}}") is None:
            raise NotFound(f"no git tree {rev} in this repository")
        done = self._run("ls-tree", "-r", "-z", "--", f"{rev}:{prefix}")
        if done.returncode != 0:  # no such folder at `rev`
            return {}
        out = {}
        for line in done.stdout.split("\0")[:-1]:
            meta, _, name = line.partition("\t")
            mode, kind, sha = meta.split()
            if kind == "blob" and mode != "120000":
                out[f"{prefix}/{name}"] = sha
        return out

    @_light
    def changed_blobs(self, a: str | None, b: str, prefix: str) -> dict[str, tuple[str | None, str | None]]:
        """Files under `prefix` that differ between two commits or trees: path -> (old sha, new sha), None where
        absent. One `git diff-tree`; no blob is read."""
        old, new = self._object(f"{a or EMPTY_TREE}^{{tree}}"), self._object(f"{b}^{{tree}}")
        if old is None or new is None:
            raise NotFound(f"no git tree {b if old else a} in this repository")
        done = self._run("diff-tree", "-r", "-z", "--no-renames", "--no-abbrev", old[0], new[0])
        if done.returncode != 0:
            raise StateError(f"could not compare two trees: {done.stderr.strip() or 'git diff-tree failed'}")
        base = prefix.rstrip("/") + "/" if prefix else ""
        return {path: shas for path, shas in raw_changes(done.stdout).items() if path.startswith(base)}

    def blob_sha(self, data: bytes) -> str:
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

    def _object(self, name: str) -> tuple[str, str, bytes] | None:
        """(sha, type, bytes) of the object `name` names (any revision `git cat-file` reads), or None."""
        if "\n" in name:  # one name per line is the whole protocol
            raise NotFound(f"no git object named {name!r}")
        if self._batch is None:
            self._batch = self._start("cat-file", "--batch", feed=True, text=False)
            # communicate() closes its input (so it exits), reads what is left and reaps it.
            self._stop_batch = weakref.finalize(self, self._batch.communicate)
        assert self._batch.stdin is not None and self._batch.stdout is not None
        self._batch.stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
        self._batch.stdin.flush()
        header = self._batch.stdout.readline()
        if not header:
            raise StateError(f"git cat-file stopped: {self._batch.stderr.read().decode(errors='replace').strip()}")
        if header.endswith((b" missing\n", b" ambiguous\n")):  # NAME may hold spaces, so test the end
            return None
        fields = header.split()
        data = self._batch.stdout.read(int(fields[2]) + 1)[:-1]  # each object is followed by a newline
        return fields[0].decode(), fields[1].decode(), data


def parse_commit(sha: str, raw: bytes) -> CommitInfo:
    """A commit object's fields, as libgit2 reads them (headers, a blank line, the message)."""
    head, _, message = raw.partition(b"\n\n")
    tree, parents, author, when, encoding = "", [], Person("", ""), 0, "utf-8"
    for line in head.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"tree":
            tree = value.decode()
        elif key == b"parent":
            parents.append(value.decode())
        elif key == b"author":
            author = _person(value)[0]
        elif key == b"committer":  # libgit2's commit_time is the committer's
            when = _person(value)[1]
        elif key == b"encoding":
            encoding = value.decode("ascii", "replace")
        # continuation lines (a signature's) start with a space: key is empty
    return CommitInfo(sha, tuple(parents), message.decode(encoding, "replace"), author, when, tree)


def _person(value: bytes) -> tuple[Person, int]:
    """'Name <email> 1700000000 +0100' -> (Person, time)."""
    name, _, rest = value.partition(b" <")
    email, _, stamp = rest.rpartition(b"> ")
    seconds = stamp.split()[0] if stamp.split() else b"0"
    return Person(name.decode("utf-8", "replace"), email.decode("utf-8", "replace")), int(seconds)
