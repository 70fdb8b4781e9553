"""`mm ci HOST`: write or update the pull-request CI files (the library side is mindmem/governance/ci.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

from mindmem.cli.app import JsonOpt, app, echo, memory, print_json
from mindmem.cli.commands import Argument, Option

if TYPE_CHECKING:
    from mindmem.governance.ci import CiFile

InstallOpt = Annotated[
    Optional[str],
    Option(
        "--install",
        metavar="SPEC",
        help="What CI installs: git+URL@TAG_OR_COMMIT or a folder in this repo. "
        "Default: mindmem's own repository at the commit this mm was installed from.",
    ),
]


def show_ci(files: list[CiFile]) -> None:
    words = {
        "written": "Wrote",
        "updated": "Updated",
        "unchanged": "Up to date:",
        "kept": "Kept the existing",
    }
    for f in files:
        echo(f"{words[f.state]} {f.path}")
    if any(f.written for f in files):
        echo("Commit them with your project.")


@app.command("ci")
def ci(
    host: Annotated[str, Argument(metavar="HOST", help="The CI host: github.")],
    install: InstallOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write or update the pull-request CI workflow in this memory repo.

    For github: .github/workflows/mindmem.yml runs `mm verify`, `mm check
    BASE..HEAD --all` (every pull request, so code-only changes still learn
    which citations went stale) and, when memory changed, posts a review
    summary that fits a comment (full packet in the job summary and an
    artifact). The workflow is rewritten to the current template every run;
    a pull-request template and a CODEOWNERS example are written once and then
    left to you. CI installs mindmem from its repository at a pinned commit or
    tag, or from a folder you choose; nothing is committed.

    \b
    Example:
      mm ci github
      mm ci github --install git+https://git.example.com/tools/mindmem@v0.1.0
      mm ci github --install tools/mindmem
    """
    from mindmem.governance.ci import check_host, install_spec, write_ci

    mem = memory()
    files = write_ci(mem, check_host(host), install_spec(mem.workdir, install))
    if as_json:
        print_json({"host": host, "files": [f.to_json() for f in files]})
    else:
        show_ci(files)
