"""`mm ci github` (and `mm init --ci github`): the CI files that check memory in pull requests.

Templates live in mindmem/templates/ci/<host>/; placeholders (@MM_ROOT@, @MM_BRANCH@,
@MM_INSTALL@) are filled from the repo's settings and where CI installs mindmem from.
The workflow is mindmem's and is rewritten to the current template on every run; the
other files (a pull-request template, a CODEOWNERS example) are the user's once written
and are never overwritten.

CI installs mindmem from its repository at a pinned commit or tag (or from a path in
the project), never from a package index that may not carry this version.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from mindmem.errors import BadInput, BadParameter, StateError
from mindmem.jsonable import Jsonable
from mindmem.store.files import atomic_write
from mindmem.store.memory import Memory

WORKFLOW = "mindmem.yml"
# template file -> where it goes in the repo, per CI host.
CI_FILES = {
    "github": {
        WORKFLOW: ".github/workflows/mindmem.yml",
        "pull_request_template.md": ".github/pull_request_template.md",
        "CODEOWNERS.example": ".github/CODEOWNERS.example",
    }
}
NO_SOURCE = (
    "cannot tell where CI should install mindmem from (this one is not installed from a git repository "
    "with a remote); pass --install git+https://…/mindmem@TAG (a tag or commit) or --install PATH (a folder "
    "in this repository)"
)


@dataclass(frozen=True)
class CiFile(Jsonable):
    json_extra = ("written",)

    path: str
    state: str  # written | updated | unchanged | kept (the user's file, left alone)

    @property
    def written(self) -> bool:
        return self.state in ("written", "updated")


def check_host(host: str) -> str:
    if host not in CI_FILES:
        raise BadInput(f"CI host '{host}' is not supported; expected one of {', '.join(CI_FILES)}")
    return host


def install_spec(top: Path, install: str | None) -> str:
    """What the workflow passes to `pip install`: --install as given (a folder in the repo at `top`
    becomes `./folder`), else this mindmem's own source repository at the commit it was installed from."""
    if install:
        if any(ch in install for ch in '\n"$`'):
            raise BadParameter("{install} is one pip requirement: a git URL at a tag or commit, or a folder")
        local = top / install
        if not install.startswith(("git+", "http:", "https:")) and local.is_dir():
            try:
                rel = local.resolve().relative_to(top.resolve()).as_posix()
            except ValueError:
                raise BadParameter(
                    f"{{install}} {install}: CI installs only from a folder inside the repository"
                ) from None
            return f"./{rel}" if rel != "." else "."
        return install
    spec = spec_from_install(_direct_url(), _source_origin)
    if spec is None:
        raise BadInput(NO_SOURCE)
    return spec


def spec_from_install(
    direct_url: Mapping[str, Any] | None, origin_of: Callable[[Path], tuple[str, str] | None]
) -> str | None:
    """A pinned `git+URL@COMMIT` from PEP 610 install data: a git install names its URL and commit;
    an install from a local checkout (editable or not) uses that checkout's `origin` and HEAD.
    `origin_of(folder)` gives (remote URL, HEAD commit) or None. None when nothing can be pinned."""
    if not direct_url:
        return None
    url = str(direct_url.get("url", ""))
    vcs = direct_url.get("vcs_info") or {}
    if vcs.get("vcs") == "git" and vcs.get("commit_id") and not url.startswith("file:"):
        return f"git+{url}@{vcs['commit_id']}"
    if url.startswith("file://"):
        found = origin_of(Path(url.removeprefix("file://")))
        if found and _is_remote_url(found[0]):
            remote = found[0] if found[0].startswith("http") else f"ssh://{_ssh_path(found[0])}"
            return f"git+{remote}@{found[1]}"
    return None


def _is_remote_url(url: str) -> bool:
    return url.startswith(("https://", "http://", "ssh://")) or ("@" in url and ":" in url and "://" not in url)


def _ssh_path(url: str) -> str:
    """scp-like `git@host:owner/repo.git` as pip wants it: `git@host/owner/repo.git`."""
    if url.startswith("ssh://"):
        return url.removeprefix("ssh://")
    user_host, _, path = url.partition(":")
    return f"{user_host}/{path}"


def _direct_url() -> dict[str, Any] | None:
    try:
        text = metadata.distribution("mindmem").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    return json.loads(text) if text else None


def _source_origin(folder: Path) -> tuple[str, str] | None:
    from mindmem.store.repo import GitRepo

    try:
        git = GitRepo.discover(folder)
    except StateError:
        return None
    url, head = git.remote_url("origin"), git.head_commit()
    return (url, head) if url and head else None


def write_ci(memory: Memory, host: str, spec: str) -> list[CiFile]:
    """Write (or bring up to date) the CI files for `host` in the work tree, CI installing mindmem
    with `pip install SPEC` (see `install_spec`); nothing is committed."""
    check_host(host)
    values = {"@MM_ROOT@": memory.root, "@MM_BRANCH@": memory.settings.governed_branch, "@MM_INSTALL@": spec}
    folder = resources.files("mindmem").joinpath("templates", "ci", host)
    out = []
    for name, rel in CI_FILES[host].items():
        target = memory.workdir / rel
        text = folder.joinpath(name).read_text("utf-8")
        for key, value in values.items():
            text = text.replace(key, value)
        if not target.exists():
            state = "written"
        elif name != WORKFLOW:
            state = "kept"
        elif target.read_text("utf-8", "replace") == text:
            state = "unchanged"
        else:
            state = "updated"
        if state in ("written", "updated"):
            atomic_write(target, text.encode())
        out.append(CiFile(rel, state))
    return out
