"""`mm init --ci github`: the CI files that check memory changes in pull requests.

Templates live in mindmem/templates/ci/<host>/; placeholders (@MM_ROOT@, @MM_BRANCH@,
@MM_VERSION@) are filled from the repo's settings. Existing files are never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from mindmem import __version__
from mindmem.errors import BadInput
from mindmem.files import atomic_write
from mindmem.memory import Memory

# template file -> where it goes in the repo, per CI host.
CI_FILES = {
    "github": {
        "mindmem.yml": ".github/workflows/mindmem.yml",
        "pull_request_template.md": ".github/pull_request_template.md",
        "CODEOWNERS.example": ".github/CODEOWNERS.example",
    }
}


@dataclass(frozen=True)
class CiFile:
    path: str
    written: bool  # False: a file was already there and was left alone


def check_host(host: str) -> str:
    if host not in CI_FILES:
        raise BadInput(f"--ci '{host}' is not supported; expected one of {', '.join(CI_FILES)}")
    return host


def write_ci(memory: Memory, host: str) -> list[CiFile]:
    """Write the CI files for `host` into the work tree (not committed)."""
    check_host(host)
    values = {"@MM_ROOT@": memory.root, "@MM_BRANCH@": memory.settings.governed_branch, "@MM_VERSION@": __version__}
    folder = resources.files("mindmem").joinpath("templates", "ci", host)
    out = []
    for name, rel in CI_FILES[host].items():
        target = memory.workdir / rel
        if target.exists():
            out.append(CiFile(rel, False))
            continue
        text = folder.joinpath(name).read_text("utf-8")
        for key, value in values.items():
            text = text.replace(key, value)
        atomic_write(target, text.encode())
        out.append(CiFile(rel, True))
    return out
