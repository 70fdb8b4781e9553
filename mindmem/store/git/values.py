"""The plain values the git facade hands out, and the constants and names of git itself: no pygit2 here,
so a command that never opens the repository through libgit2 never loads it."""

from __future__ import annotations

from dataclasses import dataclass

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git knows it without storing it
ZERO_SHA = "0" * 40  # "no object": a removal's side of a diff
# Set inside git hooks; a git child started from one must find its repository from --git-dir, not from these.
GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")


def ref_name(branch: str) -> str:
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    parents: tuple[str, ...]
    message: str
    author: Person
    time: int
    tree: str
