"""Real git repositories in tmp_path, with an isolated git environment (no user or system config)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pygit2
import pytest

GIT_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")


@pytest.fixture(autouse=True)
def git_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME with a known git identity; no system config; no MM_* leaking in."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("MM_HOME", str(home / "mm"))
    for var in GIT_VARS:
        monkeypatch.delenv(var, raising=False)
    for var in ("MM_REPO", "MM_ROOT", "MM_MODE", "MM_GOVERNED_BRANCH", "MM_AUTHOR", "MM_SIGNING_KEY", "MM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    # libgit2 reads global config from its own search path, not from GIT_CONFIG_GLOBAL.
    empty = home / "empty"
    empty.mkdir()
    levels = pygit2.enums.ConfigLevel
    saved = {lvl: pygit2.settings.search_path[lvl] for lvl in (levels.GLOBAL, levels.XDG, levels.SYSTEM)}
    pygit2.settings.search_path[levels.GLOBAL] = str(home)
    pygit2.settings.search_path[levels.XDG] = str(empty)
    pygit2.settings.search_path[levels.SYSTEM] = str(empty)
    yield home
    for lvl, value in saved.items():
        pygit2.settings.search_path[lvl] = value


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run the real git binary; return stdout."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def fsck(cwd: Path) -> None:
    out = subprocess.run(["git", "fsck", "--strict", "--no-progress"], cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "error" not in out.stderr.lower(), out.stderr


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_mm(*args: str, cwd: Path | None = None, stdin: str = "") -> Result:
    """Run `mm` in-process through its real entry point (the one error handler included)."""
    from mindmem.cli import main

    argv = (["-C", str(cwd)] if cwd is not None else []) + list(args)
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def mm():
    return run_mm


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An initialised memory repo with one commit of unrelated project history."""
    path = tmp_path / "proj"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("# project\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "project start")
    result = run_mm("init", "--commit", cwd=path)
    assert result.code == 0, result.err
    return path


# Helpers for tests that drive the CLI: each asserts success and returns what a script would use.


def new_block(mm, repo: Path, *args: str) -> str:
    """`mm new …`; the new block's ID."""
    result = mm("new", *args, cwd=repo)
    assert result.code == 0, result.err
    return result.out.strip()


def propose(mm, repo: Path, *args: str) -> str:
    """`mm propose --json …`; the proposal ID."""
    result = mm("propose", "--json", *args, cwd=repo)
    assert result.code == 0, result.err
    return json.loads(result.out)["id"]


def approve(mm, repo: Path, pid: str, *args: str) -> str:
    """`mm approve P --json …`; the approval's sha."""
    result = mm("approve", pid, "--json", *args, cwd=repo)
    assert result.code == 0, result.err
    return json.loads(result.out)["commit"]


def ssh_key(folder: Path, name: str, passphrase: str = "") -> Path:
    """A fresh ed25519 key pair `folder/name` and `folder/name.pub`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def enforced_repo(path: Path, mm, key: Path) -> Path:
    """A new repo set up the way a team starts: enforce mode, the user's ssh key as the one approver,
    and git told where the approvers are (so `git verify-commit` agrees)."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "gpg.format", "ssh")
    git(path, "config", "user.signingkey", str(key))
    git(path, "config", "gpg.ssh.allowedSignersFile", str(path / ".mindmem/allowed_signers"))
    result = mm("init", "--mode", "enforce", "--signing", "ssh", "--commit", cwd=path)
    assert result.code == 0, result.err
    return path


# Helpers for refusals: what a refused command must leave alone.


def rev(repo: Path, name: str) -> str | None:
    done = subprocess.run(["git", "rev-parse", "-q", "--verify", name], cwd=repo, capture_output=True, text=True)
    return done.stdout.strip() or None


def state(repo: Path) -> dict[str, object]:
    """Everything a refused command must leave alone: refs, HEAD, index, work tree."""
    files = {}
    for path in sorted(repo.rglob("*")):
        if ".git" not in path.relative_to(repo).parts and path.is_file():
            files[path.relative_to(repo).as_posix()] = path.read_bytes()
    return {
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "head": git(repo, "symbolic-ref", "-q", "HEAD", check=False) or git(repo, "rev-parse", "HEAD"),
        "index": git(repo, "ls-files", "--stage"),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
        "files": files,
    }


def refused(mm, repo: Path, args: list[str], code: int, message: str, cwd: Path | None = None) -> None:
    """`mm ARGS` fails with `code` and `message`, and refs, index and work tree are exactly as before."""
    before = state(repo)
    result = mm(*args, cwd=cwd or repo)
    assert result.code == code, (result.code, result.out, result.err)
    assert message in result.err, result.err
    assert result.err.startswith("mm: error: ") and "Traceback" not in result.err
    assert state(repo) == before
