"""Git hooks: install short shims that call `mm hook-impl NAME`, and what each hook does.

- pre-commit: `mm check --staged` on the index being committed; a critical finding
  (a broken block, a secret, a must/must_not clash …) refuses the commit (exit 1).
- post-commit, post-merge, post-rewrite, post-checkout: bring the search index up to
  the new commit (`index.catch_up`), when there is an index to keep in step.

Installing never clobbers a hook that is already there: it is moved aside as
`NAME.pre-mindmem` and the shim runs it first; uninstalling puts it back.
`core.hooksPath` is respected. Inside a hook, git's location variables (GIT_DIR,
GIT_INDEX_FILE, GIT_WORK_TREE …) are read once and then dropped, so nothing mm
opens later (another repo, a git child process) is pointed at the wrong place.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mindmem.errors import MindmemError, StateError
from mindmem.jsonable import Jsonable
from mindmem.store.files import atomic_write
from mindmem.store.git.values import GIT_LOCATION_VARS

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo

HOOKS = ("pre-commit", "post-commit", "post-merge", "post-rewrite", "post-checkout")
MARKER = "mindmem-hook-shim"
CHAINED = ".pre-mindmem"
SHIM = "mindmem-hook"
_PYTHON_LINE = 'mm_python=""'


@dataclass(frozen=True)
class HookState(Jsonable):
    """One hook: `installed` (our shim), `absent`, or `other` (someone else's hook, not chained)."""

    name: str
    path: str
    state: str
    chained: str | None = None
    python: str | None = None


def shim_text(python: str | None) -> str:
    """The shim, with the Python that has mindmem written in (else it finds `mm` on PATH)."""
    text = resources.files("mindmem").joinpath("hook_scripts", SHIM).read_text("utf-8")
    if python:
        text = text.replace(_PYTHON_LINE, f"mm_python={_sh_quote(python)}", 1)
    return text


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _is_shim(path: Path) -> bool:
    try:
        return path.is_file() and MARKER in path.read_text("utf-8", "replace")
    except OSError:
        return False


def status(git: GitRepo) -> list[HookState]:
    folder = git.hooks_dir()
    out = []
    for name in HOOKS:
        path = folder / name
        chained = folder / (name + CHAINED)
        chain = str(chained) if chained.exists() or chained.is_symlink() else None
        if _is_shim(path):
            out.append(HookState(name, str(path), "installed", chain, _shim_python(path)))
        elif path.exists() or path.is_symlink():
            out.append(HookState(name, str(path), "other", chain))
        else:
            out.append(HookState(name, str(path), "absent", chain))
    return out


def _shim_python(path: Path) -> str | None:
    for line in path.read_text("utf-8", "replace").splitlines():
        if line.startswith("mm_python="):
            return line.removeprefix("mm_python=").strip("'\"") or None
    return None


def install(git: GitRepo, python: str | None = None) -> list[HookState]:
    """Write the shims (again, if present: the Python path may have moved), chaining to existing hooks."""
    folder = git.hooks_dir()
    folder.mkdir(parents=True, exist_ok=True)
    text = shim_text(python or sys.executable).encode()
    for name in HOOKS:
        path = folder / name
        chained = folder / (name + CHAINED)
        if (path.exists() or path.is_symlink()) and not _is_shim(path):
            if chained.exists() or chained.is_symlink():
                raise StateError(
                    f"{path} is not mindmem's and {chained.name} already exists; "
                    "move one of them away and run `mm hooks install` again"
                )
            path.rename(chained)
        atomic_write(path, text)
        path.chmod(0o755)
    return status(git)


def uninstall(git: GitRepo) -> list[HookState]:
    """Remove the shims and put back the hooks they chained to; hooks that are not ours are left alone."""
    folder = git.hooks_dir()
    for name in HOOKS:
        path = folder / name
        chained = folder / (name + CHAINED)
        if _is_shim(path):
            path.unlink()
            if chained.exists() or chained.is_symlink():
                chained.rename(path)
    return status(git)


# -- running a hook ---------------------------------------------------------------------


def main(argv: list[str], env: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    """`mm hook-impl NAME [ARGS…]`: run one hook in the current folder; returns the exit code for git."""
    env = dict(os.environ if env is None else env)
    out = out or sys.stderr
    if not argv or argv[0] not in HOOKS:
        print(f"mm hook-impl: expected one of {', '.join(HOOKS)}", file=out)
        return 2
    name = argv[0]
    # git runs hooks at the top of the work tree; GIT_INDEX_FILE (relative to it) is the index being committed.
    index_file = Path(env["GIT_INDEX_FILE"]).absolute() if env.get("GIT_INDEX_FILE") else None
    for var in GIT_LOCATION_VARS:
        env.pop(var, None)
        os.environ.pop(var, None)
    from mindmem.store.memory import Memory

    try:
        memory = Memory(Path.cwd(), env=env)
    except StateError as exc:
        print(f"mindmem: {exc}; the {name} hook does nothing", file=out)
        return 0
    except MindmemError as exc:
        print(f"mindmem: {exc}", file=out)
        return exc.exit_code if name == "pre-commit" else 0
    if name == "pre-commit":
        return _pre_commit(memory, index_file, out)
    return _keep_index(memory, name, out)


def _pre_commit(memory, index_file: Path | None, out: TextIO) -> int:
    try:  # git reads the index while the checks load
        started = memory.git.start_staged_changes(memory.root, index_file)
    except MindmemError as exc:
        print(f"mindmem: {exc}", file=out)
        return 1
    from mindmem.checks import context_for, run_checks
    from mindmem.checks.findings import at_least
    from mindmem.checks.report import text_lines

    try:
        ctx = context_for(memory, staged=True, index_file=index_file, started=started)
        findings = run_checks(ctx)
    except MindmemError as exc:
        print(f"mindmem: {exc}", file=out)
        return 1
    # A passing commit stays quiet about info-level findings; `mm check` shows them.
    if not any(at_least(f.severity, "warning") for f in findings):
        return 0
    for line in text_lines(ctx, findings, "warning"):
        print(line, file=out)
    if any(f.severity == "critical" for f in findings):
        print("mindmem: commit refused; fix the critical findings above (`mm check --staged --fix` may help)", file=out)
        return 1
    return 0


def _keep_index(memory, name: str, out: TextIO) -> int:
    """Catch the search index up with the new commit, if an index exists (building one is recall's job)."""
    from mindmem.search.index_state import keep_in_step

    try:
        keep_in_step(memory)
    except MindmemError as exc:
        # A post-* hook cannot undo the commit; say what happened and let git carry on.
        print(f"mindmem: the {name} hook could not update the search index: {exc}", file=out)
    return 0
