"""Git hooks on real repos: install/uninstall, chaining, core.hooksPath, and real `git commit` runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from check_helpers import put
from conftest import git

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NOTE = "N-20260101-000001"


def commit(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-q", *args], cwd=repo, capture_output=True, text=True, env=env)


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def aws_key() -> str:
    return "AKIA" + "QWERTYUIOPASDFGH"  # split so no key-shaped literal sits in the source


def test_install_status_uninstall(repo, mm):
    assert [s["state"] for s in json.loads(mm("hooks", "status", "--json", cwd=repo).out)] == ["absent"] * 5
    installed = json.loads(mm("hooks", "install", "--json", cwd=repo).out)
    assert [s["name"] for s in installed] == [
        "pre-commit",
        "post-commit",
        "post-merge",
        "post-rewrite",
        "post-checkout",
    ]
    assert {s["state"] for s in installed} == {"installed"} and installed[0]["python"] == sys.executable
    shim = repo / ".git/hooks/pre-commit"
    assert os.access(shim, os.X_OK) and "hook-impl" in shim.read_text()
    assert mm("hooks", "install", cwd=repo).code == 0  # again: refreshes, never chains to itself
    assert not (repo / ".git/hooks/pre-commit.pre-mindmem").exists()
    removed = json.loads(mm("hooks", "uninstall", "--json", cwd=repo).out)
    assert {s["state"] for s in removed} == {"absent"} and not shim.exists()


def test_commit_with_a_planted_secret_is_refused(repo, mm):
    mm("hooks", "install", cwd=repo)
    before = head(repo)
    put(repo, NOTE, "Deploy notes", body=f"aws key {aws_key()}")
    git(repo, "add", "memory")
    refused = commit(repo, "-m", "notes")
    assert refused.returncode == 1 and head(repo) == before
    assert "MM-X003 critical memory/notes/N-20260101-000001.md:8 AWS access key ID AKIA…" in refused.stderr
    assert aws_key() not in refused.stderr
    put(repo, NOTE, "Deploy notes", body="the key lives in the vault")
    git(repo, "add", "memory")
    done = commit(repo, "-m", "notes")
    assert done.returncode == 0, done.stderr
    assert head(repo) != before


def test_commit_all_checks_the_index_git_is_committing(repo, mm):
    put(repo, NOTE, "Deploy notes", body="the key lives in the vault")
    git(repo, "add", "memory")
    git(repo, "commit", "-q", "-m", "notes")
    mm("hooks", "install", cwd=repo)
    put(repo, NOTE, "Deploy notes", body=f"aws key {aws_key()}")  # modified, not staged
    refused = commit(repo, "-a", "-m", "oops")  # git stages it into index.lock for the hook
    assert refused.returncode == 1 and "MM-X003" in refused.stderr


def test_broken_block_blocks_the_commit_without_a_traceback(repo, mm):
    mm("hooks", "install", cwd=repo)
    path = repo / "memory/notes/N-20260101-000002.md"
    path.write_text("---\nid: N-20260101-000002\ntitle: [unclosed\n---\n")
    git(repo, "add", "memory")
    refused = commit(repo, "-m", "broken")
    assert refused.returncode == 1
    assert "MM-S001 critical memory/notes/N-20260101-000002.md" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_existing_hook_is_chained_and_restored(repo, mm):
    hooks = repo / ".git/hooks"
    mine = hooks / "pre-commit"
    mine.write_text('#!/bin/sh\necho ran >> "$(git rev-parse --git-dir)/mine.log"\nexit "${MINE_EXIT:-0}"\n')
    mine.chmod(0o755)
    original = mine.read_text()
    states = json.loads(mm("hooks", "install", "--json", cwd=repo).out)
    assert states[0]["chained"] == str(hooks / "pre-commit.pre-mindmem")
    put(repo, NOTE, "Deploy notes")
    git(repo, "add", "memory")
    assert commit(repo, "-m", "ok").returncode == 0
    assert (repo / ".git/mine.log").read_text() == "ran\n"
    put(repo, NOTE, "Deploy notes, again")
    git(repo, "add", "memory")
    before = head(repo)
    refused = commit(repo, "-m", "mine says no", env={**os.environ, "MINE_EXIT": "3"})
    assert refused.returncode != 0 and head(repo) == before  # the user's own hook still has its say
    mm("hooks", "uninstall", cwd=repo)
    assert mine.read_text() == original and not (hooks / "pre-commit.pre-mindmem").exists()


def test_core_hooks_path_is_respected(repo, mm):
    git(repo, "config", "core.hooksPath", "githooks")
    states = json.loads(mm("hooks", "install", "--json", cwd=repo).out)
    assert states[0]["path"] == str(repo / "githooks/pre-commit")
    assert not (repo / ".git/hooks/pre-commit").exists()
    put(repo, NOTE, "Deploy notes", body=f"aws key {aws_key()}")
    git(repo, "add", "memory")
    assert commit(repo, "-m", "oops").returncode == 1


def test_repo_without_mindmem_is_a_no_op(tmp_path, mm):
    plain = tmp_path / "plain"
    plain.mkdir()
    git(plain, "init", "-q", "-b", "main")
    assert mm("hooks", "install", cwd=plain).code == 0
    (plain / "a.txt").write_text("a\n")
    git(plain, "add", "a.txt")
    done = commit(plain, "-m", "a")
    assert done.returncode == 0
    assert done.stderr.count("does nothing") == 2  # pre-commit and post-commit, one line each


def test_post_commit_keeps_the_search_index_in_step(repo, mm):
    mm("hooks", "install", cwd=repo)
    assert mm("index", "rebuild", cwd=repo).code == 0
    put(repo, NOTE, "Deploy notes", body="Deploys go through staging.")
    git(repo, "add", "memory")
    assert commit(repo, "-m", "notes").returncode == 0
    status = json.loads(mm("index", "status", "--json", cwd=repo).out)
    assert status["indexed"] == head(repo) and status["fresh"]


def test_hook_impl_rejects_unknown_names(repo, mm):
    assert mm("hook-impl", "pre-push", cwd=repo).code == 2


needs_pre_commit = pytest.mark.skipif(not (BIN / "pre-commit").exists(), reason="pre-commit is not installed")


def published_hooks() -> dict[str, dict]:
    return {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def use_published_hooks(repo: Path) -> dict[str, str]:
    """A .pre-commit-config.yaml running the published hooks from this venv; the env to run pre-commit in."""
    # The published hooks install mindmem with pip (language: python); offline, run the same entries from this venv.
    hooks = [{**hook, "language": "unsupported"} for hook in published_hooks().values()]
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}))
    git(repo, "add", ".pre-commit-config.yaml")
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def pre_commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pre-commit", *args], cwd=repo, env=env, capture_output=True, text=True)


def test_published_hooks_pass_file_names_and_verify() -> None:
    hooks = published_hooks()
    assert set(hooks) == {"mindmem-check", "mindmem-verify"}
    check = hooks["mindmem-check"]
    assert check["entry"] == "mm check" and check.get("pass_filenames", True) and not check.get("always_run")
    assert hooks["mindmem-verify"]["entry"] == "mm verify" and hooks["mindmem-verify"]["pass_filenames"] is False


def test_check_takes_file_names_and_ignores_files_outside_the_memory_root(repo, mm):
    put(repo, NOTE, "Deploy notes", body=f"aws key {aws_key()}")
    other = put(repo, "N-20260101-000002", "Other notes")
    named = mm("check", "README.md", str(other.relative_to(repo)), "--json", cwd=repo)
    assert named.code == 0 and json.loads(named.out)["checked"] == 1  # the secret is in a block not named
    path = repo / "memory/notes" / f"{NOTE}.md"
    found = mm("check", str(path), "--json", cwd=repo)
    assert found.code == 1 and [f["code"] for f in json.loads(found.out)["findings"]] == ["MM-X003"]
    assert mm("check", "/", cwd=repo).code == 2  # outside the repository


@needs_pre_commit
def test_pre_commit_run_all_files_checks_every_block(repo, mm):
    put(repo, NOTE, "Deploy notes", body=f"aws key {aws_key()}")
    for n in range(2, 5):
        put(repo, f"N-20260101-00000{n}", f"Notes {n}")
    git(repo, "add", "memory")
    git(repo, "commit", "-q", "-m", "notes, committed before the hooks")
    env = use_published_hooks(repo)
    done = pre_commit(repo, env, "run", "mindmem-check", "--all-files")
    assert done.returncode == 1
    assert "MM-X003 critical memory/notes/N-20260101-000001.md" in done.stdout
    assert "(4 block(s) checked in 4 file(s))" in done.stdout
    put(repo, NOTE, "Deploy notes", body="the key lives in the vault")
    done = pre_commit(repo, env, "run", "mindmem-check", "--all-files")
    assert done.returncode == 0, done.stdout


@needs_pre_commit
def test_pre_commit_framework_refuses_a_commit_with_a_critical_finding(repo, mm):
    env = use_published_hooks(repo)
    subprocess.run(["pre-commit", "install"], cwd=repo, env=env, check=True, capture_output=True)
    put(repo, NOTE, "Deploy notes", body=f"aws key {aws_key()}")
    put(repo, "N-20260101-000002", "Other notes")
    git(repo, "add", "memory")
    refused = commit(repo, "-m", "oops", env=env)
    assert refused.returncode == 1
    assert "mindmem check (memory blocks)" in refused.stdout + refused.stderr
    assert "MM-X003" in refused.stdout + refused.stderr
    assert "(2 block(s) checked in 2 file(s))" in refused.stdout + refused.stderr
    put(repo, NOTE, "Deploy notes", body="the key lives in the vault")
    git(repo, "add", "memory")
    done = commit(repo, "-m", "notes", env=env)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_pre_commit
def test_pre_commit_verify_hook_fails_on_an_unapproved_memory_commit(repo, mm):
    env = use_published_hooks(repo)
    git(repo, "commit", "-q", "-m", "pre-commit config")
    assert pre_commit(repo, env, "run", "mindmem-verify", "--hook-stage", "manual").returncode == 0
    put(repo, NOTE, "Deploy notes")
    git(repo, "add", "memory")
    git(repo, "commit", "-q", "-m", "a memory change without approval")
    failed = pre_commit(repo, env, "run", "mindmem-verify", "--hook-stage", "manual")
    assert failed.returncode == 1 and "mindmem verify (governed history)" in failed.stdout
