"""The git store: reads straight from objects, commits beside the user's work, compare-and-swap refs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import fsck, git

from mindmem.errors import NotFound, RefConflict, StateError
from mindmem.store.blocks import parse, render
from mindmem.store.memory import Memory
from mindmem.store.repo import GitRepo, Person

ALICE = Person("Alice", "alice@example.com")


def block_text(block_id: str, title: str, block_type: str = "fact") -> str:
    return f"---\nid: {block_id}\ntype: {block_type}\ntitle: {title}\nstatus: active\ncreated: 2026-01-02\n---\n"


def add_and_commit(repo: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
        git(repo, "add", rel)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def test_blocks_at_an_older_revision_come_from_git_objects(repo: Path) -> None:
    f1, f2 = "memory/facts/F-20260102-000001.md", "memory/facts/F-20260102-000002.md"
    first = add_and_commit(repo, {f1: block_text("F-20260102-000001", "old title")}, "one fact")
    changes = {f1: block_text("F-20260102-000001", "new title"), f2: block_text("F-20260102-000002", "b")}
    add_and_commit(repo, changes, "second")
    # Empty the work tree of blocks: the past must still be readable, and nothing gets checked out.
    for rel in (f1, f2):
        (repo / rel).unlink()
    before = git(repo, "status", "--porcelain")
    mem = Memory(repo)

    old = mem.snapshot(at=first)
    assert old.commit == first
    assert set(old.blocks) == {"F-20260102-000001"}
    assert old.blocks["F-20260102-000001"].title == "old title"
    assert old.paths["F-20260102-000001"] == f1
    assert mem.snapshot(at="HEAD").blocks["F-20260102-000001"].title == "new title"
    assert mem.get("F-20260102-000002", at="main").title == "b"
    assert len(mem.snapshot()) == 0
    assert git(repo, "status", "--porcelain") == before
    with pytest.raises(NotFound, match="no block F-20260102-000002 at HEAD~1"):
        mem.get("F-20260102-000002", at="HEAD~1")
    with pytest.raises(NotFound, match="unknown revision 'nope'"):
        mem.snapshot(at="nope")


def test_iter_files_reads_one_subtree_and_skips_symlinks(repo: Path) -> None:
    (repo / "memory" / "notes" / "link.md").symlink_to("../../README.md")
    git(repo, "add", "memory/notes/link.md")
    head = add_and_commit(repo, {"memory/notes/N-20260101-abcdef.md": "x", "other/a.md": "y"}, "mixed")
    assert "memory/notes/link.md" in git(repo, "ls-tree", "-r", "--name-only", head)
    gr = GitRepo.discover(repo)
    files = dict(gr.iter_files(head, "memory"))
    assert files["memory/notes/N-20260101-abcdef.md"] == b"x"
    assert not any(p.startswith("other/") for p in files)
    assert "memory/notes/link.md" not in files
    assert dict(gr.iter_files(head, "no-such-folder")) == {}
    assert gr.read_file(head, "other/a.md") == b"y"
    assert gr.read_file(head, "other/missing.md") is None


def test_commit_files_writes_a_branch_without_touching_work_tree_or_index(repo: Path) -> None:
    # The user is in the middle of something: one staged change, one unstaged, one untracked file.
    (repo / "README.md").write_text("# project\nstaged\n")
    git(repo, "add", "README.md")
    (repo / "README.md").write_text("# project\nstaged\nunstaged\n")
    (repo / "scratch.txt").write_text("untracked\n")
    status = git(repo, "status", "--porcelain")
    index = git(repo, "ls-files", "--stage")
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "branch", "proposals/P-1")
    gr = GitRepo.discover(repo)

    text = block_text("F-20260102-000003", "from a proposal")
    sha = gr.commit_files(
        "proposals/P-1",
        {"memory/facts/F-20260102-000003.md": text.encode(), "memory/README.md": None},
        "Add a fact\n\nwhy\n",
        ALICE,
        expected_tip=head,
    )
    assert sha == git(repo, "rev-parse", "proposals/P-1").strip()
    assert git(repo, "rev-parse", f"{sha}^").strip() == head
    assert git(repo, "show", f"{sha}:memory/facts/F-20260102-000003.md") == text
    assert git(repo, "ls-tree", "--name-only", sha, "memory/").split() == [
        "memory/decisions",
        "memory/entities",
        "memory/facts",
        "memory/incidents",
        "memory/notes",
        "memory/tasks",
    ]
    assert git(repo, "log", "-1", "--format=%an <%ae>|%s", sha).strip() == "Alice <alice@example.com>|Add a fact"
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "ls-files", "--stage") == index
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert not (repo / "memory/facts/F-20260102-000003.md").exists()
    fsck(repo)

    # A second commit on the same branch builds on its tip.
    note = block_text("N-20260101-abcdef", "a note", "note").encode()
    second = gr.commit_files("proposals/P-1", {"memory/notes/N-20260101-abcdef.md": note}, "more\n", ALICE)
    assert git(repo, "rev-parse", f"{second}^").strip() == sha
    assert Memory(repo).get("F-20260102-000003", at="proposals/P-1").title == "from a proposal"
    fsck(repo)


def test_a_new_branch_or_an_unborn_one_gets_a_root_commit(tmp_path: Path, repo: Path) -> None:
    gr = GitRepo.init(tmp_path / "fresh")
    sha = gr.commit_files("main", {"a/b/c.md": b"deep"}, "first\n", ALICE)
    assert git(tmp_path / "fresh", "rev-list", "--count", "main").strip() == "1"
    assert git(tmp_path / "fresh", "show", f"{sha}:a/b/c.md") == "deep"
    fsck(tmp_path / "fresh")
    # expected_tip=None: the branch must not exist yet, and the commit has no parent.
    orphan = GitRepo.discover(repo).commit_files("notes", {"n.md": b"n"}, "orphan\n", ALICE, expected_tip=None)
    assert git(repo, "rev-list", "--parents", "-1", orphan).split() == [orphan]
    assert git(repo, "ls-tree", "--name-only", orphan).split() == ["n.md"]
    fsck(repo)


def test_update_ref_with_a_stale_old_value_refuses_and_leaves_the_ref(repo: Path) -> None:
    gr = GitRepo.discover(repo)
    start = gr.branch_tip("main")
    moved = gr.commit_files("main", {"x.md": b"1"}, "someone else\n", ALICE)
    mine = gr.commit_files("side", {"y.md": b"2"}, "mine\n", ALICE, expected_tip=None)
    with pytest.raises(RefConflict, match="refs/heads/main moved"):
        gr.update_ref("refs/heads/main", mine, start, "stale")
    assert gr.branch_tip("main") == moved
    with pytest.raises(RefConflict):
        gr.commit_files("main", {"z.md": b"3"}, "stale tip\n", ALICE, expected_tip=start)
    assert gr.branch_tip("main") == moved
    with pytest.raises(RefConflict):
        gr.update_ref("refs/heads/missing", mine, start, "no such ref")
    assert gr.branch_tip("missing") is None
    gr.update_ref("refs/heads/main", mine, moved, "fresh")
    assert git(repo, "rev-parse", "main").strip() == mine
    assert "fresh" in git(repo, "reflog", "-1", "main")
    fsck(repo)


def test_creating_an_existing_branch_refuses(repo: Path) -> None:
    gr = GitRepo.discover(repo)
    tip = gr.branch_tip("main")
    with pytest.raises(RefConflict, match="refs/heads/main was created by someone else"):
        gr.commit_files("main", {"x.md": b"1"}, "clobber\n", ALICE, expected_tip=None)
    assert gr.branch_tip("main") == tip
    fsck(repo)


def test_resolve_names_revisions_and_refuses_unknown_ones(repo: Path) -> None:
    gr = GitRepo.discover(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "tag", "-a", "v1", "-m", "tagged")
    assert gr.resolve("HEAD") == head
    assert gr.resolve("v1") == head
    assert gr.resolve(head[:8]) == head
    assert gr.resolve("HEAD~1") == git(repo, "rev-parse", "HEAD~1").strip()
    for bad in ("HEAD~9", "nope", "../x"):
        with pytest.raises(NotFound):
            gr.resolve(bad)


def test_discover_from_a_subfolder_and_worktrees_share_the_common_dir(repo: Path, tmp_path: Path) -> None:
    sub = repo / "memory" / "facts"
    gr = GitRepo.discover(sub)
    assert gr.workdir.resolve() == repo.resolve()
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "wt")
    other = GitRepo.discover(tmp_path / "wt")
    assert other.workdir.resolve() == (tmp_path / "wt").resolve()
    assert other.common_dir.resolve() == gr.common_dir.resolve() == (repo / ".git").resolve()


def test_canonical_file_committed_by_git_reads_back_identically(repo: Path) -> None:
    text = block_text("PER-alice", "Alice", "entity")
    sha = add_and_commit(repo, {"memory/entities/PER-alice.md": text}, "alice")
    mem = Memory(repo)
    block = mem.get("PER-alice", at=sha)
    assert render(block) == text
    assert parse(GitRepo.discover(repo).read_file(sha, "memory/entities/PER-alice.md"), "x") == block


def test_missing_objects_are_not_found_never_a_pygit2_error(repo: Path) -> None:
    gr = GitRepo.discover(repo)
    head = gr.head_commit()
    tree = gr.commit_info(head).tree
    absent = "0123456789abcdef0123456789abcdef01234567"
    for call in (
        lambda: gr.read_blob(absent),
        lambda: gr.read_blob("not-hex"),
        lambda: gr.read_blob(tree),  # a tree is not a blob
        lambda: gr.read_file(absent, "README.md"),
        lambda: gr.tree_blobs(absent, "memory"),
        lambda: gr.changed_paths(absent, head),
        lambda: gr.commit_info(absent),
        lambda: gr.commit_signature(absent),
        lambda: list(gr.walk(absent)),
        lambda: gr.commits_between(absent, head),
        lambda: gr.is_ancestor(absent, head),
        lambda: gr.merge_tree(head, head, absent),
    ):
        with pytest.raises(NotFound):
            call()
    assert not gr.has_commit(absent) and gr.has_commit(head)


def test_a_held_lock_makes_a_bounded_wait_fail_and_is_free_once_released(repo: Path) -> None:
    gr, other = GitRepo.discover(repo), GitRepo.discover(repo)
    with gr.locked("index"):
        with (
            pytest.raises(StateError, match="another mm process holds the index lock"),
            other.locked("index", wait=0.1),
        ):
            pass
        with other.locked("graph", wait=0.1):  # another name is another lock
            pass
    with other.locked("index", wait=0.1):
        pass


def test_staged_changes_name_added_changed_and_removed_files_under_the_root(tmp_path: Path) -> None:
    path = tmp_path / "fresh"
    g = GitRepo.init(path)
    one, two = "memory/facts/F-20260102-000001.md", "memory/facts/F-20260102-000002.md"
    for rel in (one, two, "docs/other.md"):
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(block_text(rel[-20:-3], "first"))
    git(path, "add", ".")
    # Before the first commit, everything staged is new.
    blob = g.blob_sha((path / one).read_bytes())
    assert g.staged_changes("memory") == {one: blob, two: g.blob_sha((path / two).read_bytes())}
    git(path, "commit", "-q", "-m", "first")
    assert g.staged_changes("memory") == {}
    (path / one).write_text(block_text("F-20260102-000001", "changed"))
    git(path, "add", one)
    git(path, "rm", "-q", "--cached", two)
    changed = g.staged_changes("memory")
    assert changed == {one: g.blob_sha((path / one).read_bytes()), two: None}
    # Another index file (what a pre-commit hook gets in GIT_INDEX_FILE) is read instead of .git/index.
    other = tmp_path / "other-index"
    git(path, "read-tree", "HEAD", "--index-output", str(other))
    assert g.staged_changes("memory", other) == {}
    assert g.staged_changes("memory") == changed
