"""Trees by hand: diffs that skip identical folders give what `git diff-tree -r` gives, and trees written by
cutting changes into a large folder's bytes are the trees libgit2's builder writes, for every kind of change."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import fsck, git

from mindmem.store.git import objects
from mindmem.store.repo import GitRepo


def write(path: Path, files: dict[str, str | None]) -> str:
    """Apply `files` (None removes) to the work tree, commit everything, return the commit."""
    for rel, text in files.items():
        full = path / rel
        if text is None:
            full.unlink()
            continue
        full.parent.mkdir(parents=True, exist_ok=True)
        if text.startswith("->"):
            full.unlink(missing_ok=True)
            full.symlink_to(text[2:])
        else:
            full.write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "--allow-empty", "-m", "change")
    return git(path, "rev-parse", "HEAD").strip()


def by_git(path: Path, a: str, b: str) -> dict[str, tuple[str | None, str | None]]:
    """path -> (old blob, new blob) by the git binary; a type change is one path with both sides."""
    out: dict[str, tuple[str | None, str | None]] = {}
    fields = git(path, "diff-tree", "-r", "-z", "--no-renames", a, b).split("\0")[:-1]
    for meta, name in zip(fields[0::2], fields[1::2], strict=True):
        old, new = meta.split()[2:4]
        zero = "0" * 40
        out[name] = (None if old == zero else old, None if new == zero else new)
    return out


@pytest.fixture(params=[64, 2], ids=["python-and-libgit2", "libgit2-below-the-root"])
def threshold(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    # Both ways of diffing a folder must agree: in Python entry by entry, or handed to libgit2.
    monkeypatch.setattr(objects, "PYTHON_DIFF_ENTRIES", request.param)
    return int(request.param)


def test_changed_blobs_match_git_for_every_kind_of_change(tmp_path: Path, threshold: int) -> None:
    path = tmp_path / "repo"
    g = GitRepo.init(path)
    big = {f"memory/notes/N-20260102-{i:06x}.md": f"note {i}\n" for i in range(100)}  # over the threshold
    first = write(
        path,
        {
            **big,
            "memory/facts/F-20260102-000001.md": "fact\n",
            "memory/facts/deep/er/a.md": "deep\n",
            "memory/swap": "a file that becomes a folder\n",
            "memory/gone/x.md": "a folder that goes\n",
            "memory/link.md": "->facts/F-20260102-000001.md",
            "tool.sh": "echo\n",
            "same/untouched.md": "same\n",
        },
    )
    (path / "tool.sh").chmod(0o755)  # a mode change: same blob, one changed path
    second = write(
        path,
        {
            "memory/notes/N-20260102-000005.md": "note 5, edited\n",
            "memory/notes/N-20260102-000007.md": None,
            "memory/notes/N-20260102-0000ff.md": "a new note\n",
            "memory/facts/deep/er/a.md": "deeper\n",
            "memory/swap": None,
            "memory/swap/inside.md": "now a folder\n",
            "memory/gone/x.md": None,
            "memory/new/sub/y.md": "a new folder\n",
            "memory/link.md": "a plain file now\n",
        },
    )
    for a, b in ((first, second), (second, first), (first, first)):
        want = by_git(path, a, b)
        assert g.changed_blobs(a, b, "") == want
        assert sorted(g.changed_names(a, b)) == sorted(want)
        assert g.changed_blobs(a, b, "memory") == {p: v for p, v in want.items() if p.startswith("memory/")}
    assert "tool.sh" in by_git(path, first, second)  # the mode change is there to compare
    # No old side: every file of the commit is new.
    everything = g.changed_blobs(None, second, "memory")
    assert set(everything) == {p for p in git(path, "ls-files", "memory").split("\n") if p}
    assert all(old is None for old, _new in everything.values())


def test_a_three_way_merge_keeps_modes_and_links_of_the_side_it_takes(tmp_path: Path, threshold: int) -> None:
    path = tmp_path / "repo"
    g = GitRepo.init(path)
    base = write(path, {f"memory/notes/N-20260102-{i:06x}.md": f"n{i}\n" for i in range(80)} | {"a.sh": "echo\n"})
    (path / "a.sh").chmod(0o755)
    theirs = write(path, {"memory/notes/N-20260102-000003.md": None, "memory/l": "->notes/N-20260102-000001.md"})
    git(path, "checkout", "-q", "-b", "ours", base)
    ours = write(path, {"memory/notes/N-20260102-0000aa.md": "ours\n"})
    tree, conflicts = g.merge_tree(base, ours, theirs)
    assert conflicts == []
    git(path, "checkout", "-q", "main")
    merged = git(path, "merge-tree", "--write-tree", ours, theirs).split("\n")[0]
    assert tree == merged
    listed = git(path, "ls-tree", "-r", tree).split("\n")
    assert any(line.startswith("100755 ") and line.endswith("\ta.sh") for line in listed)
    assert any(line.startswith("120000 ") and line.endswith("\tmemory/l") for line in listed)


NOTES = "memory/notes"
CHANGE_SETS = [
    {"A-first.md": "sorts first\n"},
    {"zz-last.md": "sorts last\n"},
    {"N-20260102-000010.md": "replaced\n"},
    {"N-20260102-000000.md": None, "zz-last.md": None, "N-20260102-000005.md": None},
    {"N-20260102-00000a5.md": "a\n", "N-20260102-00000a6.md": "b\n", "N-20260102-00000a7.md": "c\n"},
    {"x.md": "beside the folder x\n", "x-y.md": "between\n", "x0.md": "after x/\n"},
    {"N-20260102-000003.md": None, "N-20260102-000003b.md": "moved\n", "run.sh": "echo\n"},
    {"x": "a file where the folder is\n"},
    {"gone.md": None},
]


@pytest.mark.parametrize("change", CHANGE_SETS, ids=range(len(CHANGE_SETS)))
def test_a_large_folder_written_by_cutting_into_its_bytes_is_the_tree_the_builder_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: dict[str, str | None]
) -> None:
    path = tmp_path / "repo"
    g = GitRepo.init(path)
    files = {f"{NOTES}/N-20260102-{i:06x}.md": f"note {i}\n" for i in range(40)}
    head = write(path, files | {f"{NOTES}/x/inside.md": "a folder among the files\n", f"{NOTES}/run.sh": "#!\n"})
    changes = {f"{NOTES}/{name}": None if text is None else text.encode() for name, text in change.items()}
    monkeypatch.setattr(objects, "SPLICE_ENTRIES", 10**9)
    built = g.tree_with(head, changes)
    monkeypatch.setattr(objects, "SPLICE_ENTRIES", 2)
    assert g.tree_with(head, changes) == built
    listed = git(path, "ls-tree", "-r", "--name-only", built).split()
    want = set(files) | {f"{NOTES}/x/inside.md", f"{NOTES}/run.sh"}
    want = {p for p in want if changes.get(p, b"") is not None} | {p for p, d in changes.items() if d is not None}
    assert set(listed) == {p for p in want if not (f"{NOTES}/x" in changes and p.startswith(f"{NOTES}/x/"))}
    git(path, "commit-tree", "-m", "written by hand", built)  # git reads it back
    fsck(path)


def test_the_entry_mode_and_removals_down_to_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "repo"
    g = GitRepo.init(path)
    head = write(path, {"memory/keep.md": "k\n"} | {f"{NOTES}/n{i}.md": f"{i}\n" for i in range(5)})
    monkeypatch.setattr(objects, "SPLICE_ENTRIES", 2)
    emptied = g.tree_with(head, {f"{NOTES}/n{i}.md": None for i in range(5)})
    assert git(path, "ls-tree", "-r", "--name-only", emptied).split() == ["memory/keep.md"]  # no empty folder
    tree = g.tree_with(head, {})
    script = g._rewrite(tree, {f"{NOTES}/n1.md": (g._raw.create_blob(b"#!/bin/sh\n"), 0o100755)})
    assert git(path, "ls-tree", str(script), f"{NOTES}/n1.md").startswith("100755 blob ")
    fsck(path)
