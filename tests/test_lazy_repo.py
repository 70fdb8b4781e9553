"""`LazyRepo` answers the reads a pre-commit check needs through the git binary, exactly as the pygit2
facade does, and hands everything else to that facade (loaded only then)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git

from mindmem.errors import NotFound, StateError
from mindmem.store.git.lazy import LazyRepo
from mindmem.store.repo import GitRepo, Person

ALICE = Person("Alice", "alice@example.com")
# A commit object as other tools write them: a signature spread over continuation lines, a declared
# encoding, a non-ASCII author, a message with a blank line and no final newline.
ODD_COMMIT = (
    "tree {tree}\nparent {parent}\n"
    "author Zoë Ünal <zoe@example.com> 1700000000 +0100\n"
    "committer Bob <bob@example.com> 1700003600 -0230\n"
    "encoding UTF-8\n"
    "gpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n \n -----END SSH SIGNATURE-----\n"
    "\nSubject line\n\nBody with ünïcode"
)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Two commits on main and a side branch at the first: a file changed, one removed, one added, a
    symlink added, and a folder whose name starts like the memory root's."""
    path = tmp_path / "a wörk tree"  # a space and a non-ASCII letter in every path git prints
    notes = path / "memory" / "notes"
    notes.mkdir(parents=True)
    git(path, "init", "-q")
    (notes / "a.md").write_text("first\n")
    (notes / "gone.md").write_text("soon gone\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "one")
    git(path, "branch", "side")
    (notes / "a.md").write_text("second\n")
    (notes / "gone.md").unlink()
    (notes / "b.md").write_text("added\n")
    (notes / "link.md").symlink_to("a.md")
    (path / "memoryx").mkdir()
    (path / "memoryx" / "c.md").write_text("beside the root\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "two\n\nwith a body")
    return path


def lazy(path: Path) -> LazyRepo:
    found = LazyRepo.discover(path)
    assert isinstance(found, LazyRepo)
    return found


def reads(repo: LazyRepo | GitRepo, path: Path) -> dict[str, object]:
    """Everything the light side answers, on one repository."""
    head = repo.head_commit()
    assert head is not None
    blob = git(path, "rev-parse", "HEAD:memory/notes/a.md").strip()
    out: dict[str, object] = {
        "workdir": repo.workdir,
        "common_dir": repo.common_dir,
        "head_branch": repo.head_branch(),
        "head": head,
        "main": repo.branch_tip("main"),
        "side": repo.branch_tip("refs/heads/side"),
        "absent": repo.branch_tip("no such branch"),
        "blob": repo.read_blob(blob),
        "file": repo.read_file(head, "memory/notes/a.md"),
        "file at side": repo.read_file(repo.branch_tip("side") or "", "memory/notes/a.md"),
        "folder": repo.read_file(head, "memory/notes"),
        "no file": repo.read_file(head, "memory/none.md"),
        "commit": repo.commit_info(head),
        "blob sha": repo.blob_sha(b"some bytes\n"),
        "tree": repo.tree_blobs(head, "memory"),
        "tree of a folder": repo.tree_blobs(repo.commit_info(head).tree, "memory/notes"),
        "no such folder": repo.tree_blobs(head, "nothing"),
        "changes": repo.changed_blobs(repo.branch_tip("side"), head, "memory"),
        "from nothing": repo.changed_blobs(None, head, "memory"),
        "reversed": repo.changed_blobs(head, repo.branch_tip("side") or "", "memory/notes"),
        "no changes": repo.changed_blobs(head, head, "memory"),
    }
    for name, call in {
        "missing blob": lambda: repo.read_blob("0" * 40),
        "tree as blob": lambda: repo.read_blob(git(path, "rev-parse", "HEAD^{tree}").strip()),
        "file at missing commit": lambda: repo.read_file("1" * 40, "memory/notes/a.md"),
        "missing commit": lambda: repo.commit_info("2" * 40),
        "blob as commit": lambda: repo.commit_info(blob),
        "tree of a missing commit": lambda: repo.tree_blobs("3" * 40, "memory"),
        "diff to a missing commit": lambda: repo.changed_blobs(head, "4" * 40, "memory"),
    }.items():
        with pytest.raises(NotFound):
            call()
        out[name] = "NotFound"
    return out


def test_light_reads_agree_with_the_pygit2_facade(history: Path) -> None:
    light = lazy(history / "memory")  # from a subfolder, as `mm -C memory` would start
    seen = reads(light, history)
    assert seen == reads(GitRepo.discover(history / "memory"), history)
    assert set(seen["changes"]) == {f"memory/notes/{name}.md" for name in ("a", "b", "gone", "link")}  # type: ignore[arg-type]
    assert set(seen["tree"]) == {"memory/notes/a.md", "memory/notes/b.md"}  # type: ignore[arg-type]
    assert light._full is None  # none of that loaded libgit2's facade


def test_a_commit_written_by_other_tools_reads_the_same(history: Path) -> None:
    head = git(history, "rev-parse", "HEAD").strip()
    tree = git(history, "rev-parse", "HEAD^{tree}").strip()
    raw = ODD_COMMIT.format(tree=tree, parent=head)
    sha = (
        subprocess.run(
            ["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
            cwd=history,
            input=raw.encode(),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    info = lazy(history).commit_info(sha)
    assert info == GitRepo.discover(history).commit_info(sha)
    assert (info.author, info.time, info.parents) == (Person("Zoë Ünal", "zoe@example.com"), 1700003600, (head,))


def test_unborn_and_detached_heads(tmp_path: Path, history: Path) -> None:
    empty = tmp_path / "empty"
    git(tmp_path, "init", "-q", str(empty))
    assert (lazy(empty).head_branch(), lazy(empty).head_commit()) == ("main", None)
    git(history, "checkout", "-q", "--detach", "HEAD~1")
    light = lazy(history)
    assert light.head_branch() is None
    assert light.head_commit() == git(history, "rev-parse", "HEAD").strip()


def test_a_linked_worktree_shares_the_common_dir(tmp_path: Path, history: Path) -> None:
    git(history, "worktree", "add", "-q", str(tmp_path / "linked"), "side")
    light, full = lazy(tmp_path / "linked"), GitRepo.discover(tmp_path / "linked")
    assert (
        (light.workdir, light.common_dir)
        == (full.workdir, full.common_dir)
        == (
            (tmp_path / "linked").resolve(),
            (history / ".git").resolve(),
        )
    )
    assert light.head_branch() == "side"


def test_what_it_cannot_open_goes_to_libgit2s_discovery(tmp_path: Path, history: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(history), str(bare))
    assert isinstance(LazyRepo.discover(bare), GitRepo)
    assert isinstance(LazyRepo.discover(history / ".git" / "refs"), GitRepo)  # inside the git dir
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    for path in (nowhere, tmp_path / "missing"):
        with pytest.raises(StateError, match="not a git repository"):
            LazyRepo.discover(path)


def test_reads_see_what_changes_after_the_first_read(history: Path) -> None:
    """One `cat-file` child serves a whole command: a branch moved meanwhile (by git, or through the
    facade the first write opens) is read at its new tip."""
    light = lazy(history)
    before = light.head_commit()
    git(history, "commit", "-q", "--allow-empty", "-m", "three")
    moved = git(history, "rev-parse", "HEAD").strip()
    assert light.head_commit() == moved != before
    written = light.commit_files("main", {"memory/notes/b.md": b"new\n"}, "four\n", ALICE)
    assert light._full is not None  # a write opened the facade; reads go there now
    assert light.head_commit() == written
    assert light.read_file(written, "memory/notes/b.md") == b"new\n"


def test_check_staged_does_not_load_libgit2(history: Path) -> None:
    """The pre-commit hook checks the staged blocks on every commit: it stays a light process, the first
    time (the key index is built) and after a commit (the key index moves by a tree diff)."""
    from conftest import run_mm

    assert run_mm("init", cwd=history).code == 0
    git(history, "add", ".")
    git(history, "commit", "-q", "-m", "init mindmem")
    probe = (  # what the pre-commit shim runs, then what a pre-commit framework's hook runs
        "import sys\nfrom mindmem.cli import main\n"
        "for argv in (['hook-impl', 'pre-commit'], ['check', '--staged']):\n"
        "    try:\n        main(argv)\n    except SystemExit as exc:\n        assert not exc.code, exc.code\n"
        "print('pygit2' in sys.modules)\n"
    )
    for n in (1, 2):
        block = f"N-20260101-00000{n}"
        (history / "memory" / "notes" / f"{block}.md").write_text(
            f"---\nid: {block}\ntype: note\ntitle: Staged note {n}\nstatus: active\ncreated: 2026-01-01\n---\nA note.\n"
        )
        git(history, "add", ".")
        done = subprocess.run([sys.executable, "-c", probe], cwd=history, capture_output=True, text=True, check=True)
        assert done.stdout.split()[-1] == "False", done.stdout + done.stderr
        assert "1 block(s) checked in staged changes" in done.stdout
        git(history, "commit", "-q", "-m", f"note {n}")


def test_listing_the_work_tree_does_not_load_libgit2(history: Path) -> None:
    """`mm list` reads the work tree through git's own stat check (`vouched_blobs`, git binary only), so
    listing memory costs no libgit2 start-up, with a clean, an edited and an untracked block."""
    from conftest import run_mm

    assert run_mm("init", cwd=history).code == 0
    notes = history / "memory" / "notes"

    def note(n: int, title: str) -> None:
        (notes / f"N-20260101-00000{n}.md").write_text(
            f"---\nid: N-20260101-00000{n}\ntype: note\ntitle: {title}\nstatus: active\ncreated: 2026-01-01\n---\nA.\n"
        )

    note(1, "Note 1")
    note(2, "Note 2")
    git(history, "add", ".")
    git(history, "commit", "-q", "-m", "notes")
    note(2, "Edited")
    note(3, "Untracked")
    probe = (
        "import sys\nfrom mindmem.cli import main\n"
        "try:\n    main(['list', '--json'])\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('pygit2' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=history, capture_output=True, text=True, check=True)
    *listing, loaded = done.stdout.strip().splitlines()
    assert loaded == "False", done.stdout + done.stderr
    assert [row["title"] for row in json.loads("\n".join(listing))] == ["Note 1", "Edited", "Untracked"]
