"""Commits signed the way governance signs them, forged ones, and both verdicts (git's and mm's) on them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pygit2

from mindmem.governance import signing as sg
from mindmem.governance.signing import SigningKey
from mindmem.store.repo import GitRepo, Person

ALICE = Person("Alice Approver", "alice@example.com")
HAS_GPG = shutil.which("gpg") is not None and shutil.which("gpgconf") is not None


def signer(key: SigningKey | None):
    return None if key is None else (lambda payload: sg.sign(key, payload))


def commit_on_main(repo: Path, key: SigningKey | None, message: str = "Approve P-1: test\n") -> str:
    """A (signed) commit on main with HEAD's tree, the way governance writes one."""
    gitrepo = GitRepo.discover(repo)
    tip = gitrepo.branch_tip("main")
    tree = gitrepo.commit_info(tip).tree
    sha = gitrepo.create_commit(tree, [tip], message, ALICE, sign=signer(key))
    gitrepo.update_ref("refs/heads/main", sha, tip, "test")
    return sha


def tamper(repo: Path, sha: str) -> str:
    """The same commit with its message changed and its signature kept: a forged approval."""
    raw = pygit2.Repository(str(repo))
    data = raw[sha].read_raw()
    assert b"Approve P-1" in data
    return str(raw.odb.write(pygit2.enums.ObjectType.COMMIT, data.replace(b"Approve P-1", b"Approve P-2")))


def git_verify(repo: Path, sha: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "verify-commit", sha], cwd=repo, capture_output=True, text=True)


def mm_verify(repo: Path, sha: str, **kwargs) -> sg.Verification:
    return sg.verify_commit(GitRepo.discover(repo), sha, repo / sg.ALLOWED_SIGNERS, **kwargs)
