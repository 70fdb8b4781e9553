"""The README's tour, run as a new user would run it: every command, and what it prints, matches.

IDs, shas, dates, ages and recall scores differ on every run, so the expected text is read as
a pattern: each ID or sha in the README stands for the one the run printed first in its place,
and later commands and lines use the same one.
"""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

import pytest
from conftest import git, run_mm, ssh_key

README = Path(__file__).resolve().parents[1] / "README.md"
# What differs between runs, by kind.
KINDS = {
    "id": r"\b[DFTINP]-\d{8}-[0-9a-f]{6}\b",
    "commit": r"\b[0-9a-f]{40}\b",
    "sha": r"\b[0-9a-f]{12}\b",
    "iso": r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\b",
    "time": r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b",
    "age": r"(?<= )\d+[smhd](?= )",
    "score": r"(?<= )\d+\.\d+(?= )",  # ties among random IDs move a score; never bound
}
VARIABLE = re.compile("|".join(f"(?P<{kind}>{regex})" for kind, regex in KINDS.items()))


def tour() -> list[tuple[str, list[str]]]:
    """(command, expected lines) for every `$ mm …` in the README's console blocks."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        command: str | None = None
        for line in block.splitlines():
            if line.startswith("$ "):
                command = line[2:]
                steps.append((command, []))
            elif command is not None and command.endswith("\\"):
                command = command[:-1] + line.strip()
                steps[-1] = (command, [])
            else:
                steps[-1][1].append(line)
    return steps


def pattern(expected: str, bound: dict[str, str]) -> tuple[re.Pattern[str], list[str]]:
    """`expected` as a regex: each variable part a group (or the value already bound to it)."""
    parts, names, at = [], [], 0
    for m in VARIABLE.finditer(expected):
        parts.append(re.escape(expected[at : m.start()]))
        token = m.group(0)
        if m.lastgroup == "score":
            parts.append(f"(?:{KINDS['score']})")
        elif token in bound:
            parts.append(re.escape(bound[token]))
        else:
            parts.append(f"({KINDS[m.lastgroup or '']})")
            names.append(token)
        at = m.end()
    parts.append(re.escape(expected[at:]))
    return re.compile("".join(parts)), names


def match(expected: list[str], actual: list[str], bound: dict[str, str]) -> None:
    """Each printed line matches its README line; what a README token stood for stays the same."""
    assert len(actual) == len(expected), "printed:\n" + "\n".join(actual)
    for want, got in zip(expected, actual, strict=True):
        regex, names = pattern(want, bound)
        found = regex.fullmatch(got)
        assert found, f"expected: {want}\n     got: {got}"
        for token, value in zip(names, found.groups(), strict=True):
            assert bound.setdefault(token, value) == value, f"{token} stood for {bound[token]}, now {value}"


@pytest.fixture
def shop(git_env: Path) -> Path:
    """A project repo in ~/shop, with Alice's identity and ssh signing key in git's config."""
    key = ssh_key(git_env / ".ssh", "id_ed25519")
    for name, value in (
        ("user.name", "Alice"),
        ("user.email", "alice@example.com"),
        ("gpg.format", "ssh"),
        ("user.signingkey", str(key)),
    ):
        git(git_env, "config", "--global", name, value)
    path = git_env / "shop"
    path.mkdir()
    git(path, "init", "-q")
    return path


def test_the_readme_tour_prints_what_the_readme_shows(shop: Path, git_env: Path) -> None:
    bound: dict[str, str] = {}
    for command, expected in tour():
        args = shlex.split(VARIABLE.sub(lambda m: bound.get(m.group(0), m.group(0)), command))
        assert args[0] == "mm", command
        result = run_mm(*args[1:], cwd=shop)
        printed = (result.out + result.err).replace(str(git_env), "~").splitlines()
        assert result.code in (0, 1), f"{command}\n{result.err}"
        match(expected, printed, bound)
        if args[1] == "new":
            time.sleep(1.0)  # as a person types: each block created in a second of its own, so ordered by time
