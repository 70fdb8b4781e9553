"""Hook commands: `mm hooks install|uninstall|status` and the hidden `mm hook-impl NAME`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

from mindmem.cli.app import JsonOpt, app, echo, print_json, state
from mindmem.cli.commands import Argument, Group

if TYPE_CHECKING:
    from mindmem.governance.hooks import HookState
    from mindmem.store.repo import GitRepo

hooks_app = Group(
    name="hooks",
    help=(
        "Install git hooks: pre-commit runs `mm check --staged` (a critical finding refuses the commit); "
        "post-commit, post-merge, post-rewrite and post-checkout keep the search index in step."
    ),
)
app.add_group(hooks_app)


def _git() -> GitRepo:
    from mindmem.store.repo import GitRepo

    return GitRepo.discover(Path(state["repo"] or os.environ.get("MM_REPO") or "."))


def _show(states: list[HookState], as_json: bool) -> None:
    if as_json:
        print_json([s.to_json() for s in states])
        return
    for s in states:
        chain = f", runs {Path(s.chained).name} first" if s.chained and s.state == "installed" else ""
        if s.state == "other":
            chain = " (not mindmem's; `mm hooks install` keeps it and chains to it)"
        echo(f"{s.name:<14} {s.state}{chain}  {s.path}")


@hooks_app.command("install")
def install(as_json: JsonOpt = False) -> None:
    """Install the mindmem hooks (in core.hooksPath if set, else .git/hooks).

    A hook that is already there is kept: it is renamed NAME.pre-mindmem and
    runs first. Running install again refreshes the shims.

    \b
    Example:
      mm hooks install
      git commit          # now refused when a staged block has a critical finding
    """
    from mindmem.governance import hooks

    _show(hooks.install(_git()), as_json)


@hooks_app.command("uninstall")
def uninstall(as_json: JsonOpt = False) -> None:
    """Remove the mindmem hooks and put back the hooks they chained to.

    \b
    Example:
      mm hooks uninstall
    """
    from mindmem.governance import hooks

    _show(hooks.uninstall(_git()), as_json)


@hooks_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Show, for each hook, whether mindmem's shim is installed and what it chains to.

    \b
    Example:
      mm hooks status --json
    """
    from mindmem.governance import hooks

    _show(hooks.status(_git()), as_json)


@app.command("hook-impl", hidden=True, passthrough=True)
def hook_impl(
    name: Annotated[str, Argument(help="pre-commit, post-commit, post-merge, post-rewrite or post-checkout.")],
    args: Annotated[Optional[list[str]], Argument(help="What git passed to the hook.")] = None,
) -> None:
    """Run one git hook (the shims in .git/hooks call this).

    \b
    Example:
      mm hook-impl pre-commit
    """
    from mindmem.governance import hooks

    code = hooks.main([name, *(args or [])])
    if code:
        raise SystemExit(code)
