"""Tree diffs that skip identical folders give what `git diff-tree -r` gives, for every kind of change."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git

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
