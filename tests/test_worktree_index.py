"""The work tree and the user's index through the git binary: status, staged entries, refreshing paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import fsck, git

from mindmem.store.git.worktree import UNMERGED
from mindmem.store.repo import GitRepo, Person

ALICE = Person("Alice", "alice@example.com")
ONE, TWO = "memory/notes/N-20260102-000001.md", "memory/notes/N-20260102-000002.md"


def project(tmp_path: Path) -> tuple[Path, GitRepo]:
    path = tmp_path / "proj"
    g = GitRepo.init(path)
    for rel, text in ((ONE, "one\n"), (TWO, "two\n"), ("src/app.py", "print()\n"), (".gitignore", "*.log\n")):
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "first")
    return path, g


def test_worktree_changes_lists_every_kind_of_change_under_the_folders_only(tmp_path: Path) -> None:
    path, g = project(tmp_path)
    assert g.worktree_changes(["memory", ".mindmem"]) == []
    (path / ONE).write_text("one, edited\n")  # modified
    (path / TWO).unlink()  # deleted
    (path / "memory/facts").mkdir()
    (path / "memory/facts/F-20260102-000003.md").write_text("new\n")  # untracked, in a new folder
    (path / "memory/debug.log").write_text("ignored\n")
    (path / "src/app.py").write_text("outside\n")
    staged = path / "memory/notes/N-20260102-000004.md"
    staged.write_text("staged\n")
    git(path, "add", str(staged))
    assert g.worktree_changes(["memory", ".mindmem"]) == [
        "memory/facts/F-20260102-000003.md",
        ONE,
        TWO,
        "memory/notes/N-20260102-000004.md",
    ]


def test_staged_blobs_reads_exact_paths_and_marks_conflicts(tmp_path: Path) -> None:
    path, g = project(tmp_path)
    blob = git(path, "rev-parse", f"HEAD:{ONE}").strip()
    # A literal path: a glob character is a name, and a folder does not list what is under it.
    assert g.staged_blobs([ONE, "memory/notes/*", "memory", "memory/none.md"]) == {ONE: blob}
    git(path, "checkout", "-q", "-b", "other")
    (path / ONE).write_text("one, theirs\n")
    git(path, "commit", "-q", "-am", "theirs")
    git(path, "checkout", "-q", "main")
    (path / ONE).write_text("one, ours\n")
    git(path, "commit", "-q", "-am", "ours")
    git(path, "merge", "-q", "other", check=False)  # conflicts: stages 1-3, no stage 0
    assert g.staged_blobs([ONE, TWO]) == {ONE: UNMERGED, TWO: git(path, "rev-parse", f"HEAD:{TWO}").strip()}


def test_refresh_paths_writes_the_commits_blobs_and_leaves_git_status_clean(tmp_path: Path) -> None:
    path, g = project(tmp_path)
    changes = {ONE: b"one, approved\n", TWO: None, "memory/facts/F-20260102-000003.md": b"new\n"}
    sha = g.commit_files("main", changes, "approve\n", ALICE)
    g.refresh_paths(sha, sorted(changes))
    assert git(path, "status", "--porcelain") == ""
    assert (path / ONE).read_bytes() == b"one, approved\n" and not (path / TWO).exists()
    listed = git(path, "ls-files", "-s", "memory").split("\n")
    assert f"100644 {git(path, 'rev-parse', f'{sha}:{ONE}').strip()} 0\t{ONE}" in listed
    fsck(path)


def test_refresh_paths_skips_the_index_write_when_every_entry_already_matches(tmp_path: Path) -> None:
    path, g = project(tmp_path)
    head = git(path, "rev-parse", "HEAD").strip()
    new = path / "memory/notes/N-20260102-000005.md"
    new.write_text("untracked, moved onto a proposal\n")
    (path / ONE).write_text("edited in the work tree only\n")
    index = path / ".git/index"
    before = index.stat()
    g.refresh_paths(head, [ONE, str(new.relative_to(path))], skip_matching=True)
    after = index.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not rewritten
    assert not new.exists() and (path / ONE).read_text() == "one\n"
    assert git(path, "status", "--porcelain") == ""
    # A staged change is a differing entry: that one is written back to the commit's blob.
    (path / TWO).write_text("staged\n")
    git(path, "add", TWO)
    g.refresh_paths(head, [ONE, TWO], skip_matching=True)
    assert git(path, "status", "--porcelain") == ""


def test_staged_blobs_finds_new_entries_and_asks_git_when_the_index_keeps_them_elsewhere(tmp_path: Path) -> None:
    path, g = project(tmp_path)
    new, absent = "memory/notes/N-20260102-000009.md", "memory/notes/N-20260102-00000a.md"
    (path / new).write_text("staged, never committed\n")
    git(path, "add", new)
    (path / new).unlink()  # only the index holds it now
    staged = git(path, "ls-files", "-s", new).split()[1]
    assert g.staged_blobs([new, absent, ONE]) == {new: staged, ONE: git(path, "rev-parse", f"HEAD:{ONE}").strip()}
    # A split index keeps most entries in a shared file beside .git/index, which a search of .git/index misses.
    git(path, "update-index", "--split-index")
    git(path, "commit", "-q", "-m", "the staged file")
    assert list((path / ".git").glob("sharedindex.*"))
    assert g.staged_blobs([new, absent]) == {new: staged}
    # A sparse index folds a folder outside the sparse checkout into one entry.
    path, _ = project(tmp_path / "sparse")
    git(path, "sparse-checkout", "set", "--cone", "--sparse-index", "src")
    g = GitRepo.discover(path)  # opened after git changed its settings, as the next mm command is
    assert "memory/" in git(path, "ls-files", "--sparse") and not list((path / ".git").glob("sharedindex.*"))
    assert g.staged_blobs([ONE, absent]) == {ONE: git(path, "rev-parse", f"HEAD:{ONE}").strip()}


def test_refreshing_writes_the_index_while_the_body_runs_and_waits_for_git_on_the_way_out(tmp_path: Path) -> None:
    path, g = project(tmp_path)
    changes = {ONE: b"one, approved\n", "memory/notes/N-20260102-000003.md": b"new\n"}
    sha = g.commit_files("main", changes, "approve\n", ALICE)
    lock = path / ".git/index.lock"
    lock.write_text("")  # another git command holds the index: the first try fails, the next ones wait
    with g.refreshing(sha, sorted(changes)):
        assert (path / ONE).read_bytes() == b"one, approved\n"  # the files are written before the body
        lock.unlink()
    assert git(path, "status", "--porcelain") == ""
    # The body's error comes out, after git has written the index.
    edited = g.commit_files("main", {ONE: b"one, again\n"}, "approve again\n", ALICE)
    with pytest.raises(RuntimeError, match="the body failed"), g.refreshing(edited, [ONE]):
        raise RuntimeError("the body failed")
    assert git(path, "status", "--porcelain") == "" and not lock.exists()
    fsck(path)


def test_a_split_index_of_version_4_survives_propose_check_and_approve(repo: Path, mm) -> None:
    """git's remedies for a large index (`core.splitIndex`: each write only the changed entries;
    index version 4) are unreadable to libgit2; mindmem touches the index only through git, so its
    whole flow works on such a checkout and leaves it split."""
    from conftest import approve, new_block, propose

    git(repo, "config", "core.splitIndex", "true")
    git(repo, "update-index", "--index-version", "4", "--split-index")
    block = new_block(mm, repo, "note", "--title", "Notes on a split index", "-b", "Written on a split index.")
    git(repo, "add", "memory")
    assert mm("check", "--staged", cwd=repo).code == 0
    git(repo, "reset", "-q")
    pid = propose(mm, repo, "-r", "a note written on a split index")
    approve(mm, repo, pid)
    assert git(repo, "status", "--porcelain") == ""
    assert f"memory/notes/{block}.md" in git(repo, "ls-files", "memory/notes")
    assert list((repo / ".git").glob("sharedindex.*"))  # still split: git kept writing deltas
    fsck(repo)
