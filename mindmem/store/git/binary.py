"""The facade's side that needs only the git binary: the runner every git child goes through, the
common dir, and the staged diff. No pygit2 here, so `LazyRepo` can answer from it before (or without)
loading libgit2; `GitBase` runs its git children through the same code."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from mindmem.errors import StateError
from mindmem.store.git.values import EMPTY_TREE, GIT_LOCATION_VARS, ZERO_SHA


class GitBinary:
    """The git binary on one repository; subclasses say where its git dir and work tree are."""

    @property
    def _git_dir(self) -> Path:
        raise NotImplementedError

    @property
    def _cwd(self) -> Path:
        """Where git children start: the top of the work tree, or the git dir of a bare repository."""
        raise NotImplementedError

    @property
    def common_dir(self) -> Path:
        """The git dir shared by all worktrees: where derived data lives."""
        # A linked worktree's git dir names the shared one in its `commondir` file (pygit2 has no accessor).
        pointer = self._git_dir / "commondir"
        if pointer.is_file():
            return (self._git_dir / pointer.read_text(encoding="utf-8").strip()).resolve()
        return self._git_dir

    def head_commit(self) -> str | None:
        raise NotImplementedError

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
        return {path: new for path, (_, new) in raw_changes(done.stdout).items()}

    def _run(
        self, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The real git binary on this repository, run to its end; `env` adds variables, `stdin` is its input."""
        process = self._start(*args, env=env, feed=stdin is not None)
        out, err = process.communicate(stdin)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def _start(
        self, *args: str, env: Mapping[str, str] | None = None, feed: bool = False, text: bool = True
    ) -> subprocess.Popen:
        """The real git binary on this repository, started from `_cwd` with its output piped
        (`communicate` collects it); `feed`: its input is piped too, else it has none."""
        return start_git(["git", f"--git-dir={self._git_dir}", *args], self._cwd, env, feed=feed, text=text)


def raw_changes(output: str) -> dict[str, tuple[str | None, str | None]]:
    """path -> (old blob sha, new blob sha), None where absent, from `git diff-index`/`diff-tree -r -z` output."""
    fields = output.split("\0")
    out: dict[str, tuple[str | None, str | None]] = {}
    # Each change is ":old-mode new-mode old-sha new-sha status" then the path; an absent side is zeros.
    for meta, path in zip(fields[0:-1:2], fields[1::2], strict=True):
        _, _, old, new, _ = meta.split()
        out[path] = (None if old == ZERO_SHA else old, None if new == ZERO_SHA else new)
    return out


def start_git(
    cmd: list[str], cwd: Path, env: Mapping[str, str] | None = None, *, feed: bool = False, text: bool = True
) -> subprocess.Popen:
    """`cmd` (a git command line) started in `cwd` without the variables a git hook sets, so the child
    finds its repository from what `cmd` says."""
    clean = {k: v for k, v in os.environ.items() if k not in GIT_LOCATION_VARS}
    try:
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
            text=text,
            env={**clean, **(env or {})},
        )
    except FileNotFoundError:
        raise StateError("the `git` program is not installed; mm needs it for this") from None
