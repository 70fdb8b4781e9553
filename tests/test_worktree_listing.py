"""The work tree read through git's own stat check (`WorkTree.vouched_blobs`), and `mm list`'s rows
(store/listing.py).

Git vouches for tracked files whose stat data still match its index; every other file is read.
Whatever state the index and the files are in, a snapshot must be what reading every file gives,
and a listing what the snapshot gives.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import git, run_mm
from test_parsed_cache import edit, parsed_every_file

from mindmem.errors import BlockError
from mindmem.store import blocks as b
from mindmem.store import gitdir, worktree_blobs
from mindmem.store.files import read_store
from mindmem.store.listing import listing_json
from mindmem.store.memory import Memory
from mindmem.store.snapshot import BLOCK_NAME, is_block_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import corpus


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return corpus.build_repo(tmp_path / "mem", 40, seed=7)


def some_block(memory: Memory, n: int = 0) -> b.Block:
    return memory.snapshot().blocks[sorted(memory.snapshot().blocks)[n]]


def copy_of(memory: Memory, block: b.Block, folder: str, title: str) -> Path:
    """A new block file with its own ID under `folder` of the memory root."""
    new_id = block.id[:-6] + "abcdef"
    path = memory.workdir / memory.root / folder / f"{new_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = {**block.to_mapping(), "id": new_id, "title": title}
    path.write_bytes(b.render(b.from_mapping(fields, block.body, "t")).encode())
    return path


def test_git_vouches_only_for_tracked_files_it_has_not_seen_change(repo: Path) -> None:
    memory = Memory(repo)
    vouched, unsure = memory.git.vouched_blobs(memory.root, BLOCK_NAME)()
    committed = memory.git.tree_blobs(memory.resolve_at("HEAD"), memory.root)
    assert vouched == {path: sha for path, sha in committed.items() if is_block_path(path)}
    edited = str(edit(memory, some_block(memory), "Edited in the work tree").relative_to(repo))
    added = str(copy_of(memory, some_block(memory, 1), "notes", "Never added").relative_to(repo))
    vouched, unsure = memory.git.vouched_blobs(memory.root, BLOCK_NAME)()
    assert edited not in vouched and edited in unsure
    assert added not in vouched and added in unsure
    assert len(vouched) == len(committed) - 1 - sum(not is_block_path(p) for p in committed)


def untracked_dot_folder(memory: Memory) -> None:
    copy_of(memory, some_block(memory), ".obsidian", "In a dot-folder")


def committed_dot_folder(memory: Memory) -> None:
    untracked_dot_folder(memory)
    git(memory.workdir, "add", "-f", memory.root)
    git(memory.workdir, "commit", "-q", "-m", "dot-folder block")


def flagged(flag: str):
    def change(memory: Memory) -> None:
        path = memory.path_of(some_block(memory))
        git(memory.workdir, "update-index", flag, str(path.relative_to(memory.workdir)))
        edit(memory, some_block(memory), "Edited behind a flag")

    return change


def replaced_by_link(memory: Memory) -> None:
    path = memory.path_of(some_block(memory))
    outside = memory.workdir.parent / "outside.md"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)


def nested_repository(memory: Memory, add: bool) -> None:
    sub = memory.workdir / memory.root / "sub"
    sub.mkdir()
    git(sub, "init", "-q")
    copy_of(memory, some_block(memory), "sub", "Inside a nested repository")
    git(sub, "add", ".")
    git(sub, "commit", "-q", "-m", "nested")
    if add:  # git records a gitlink (a submodule entry), not the files
        git(memory.workdir, "add", str(sub.relative_to(memory.workdir)))


def staged_then_edited(memory: Memory) -> None:
    block = some_block(memory)
    path = edit(memory, block, "Staged title")
    git(memory.workdir, "add", str(path.relative_to(memory.workdir)))
    edit(memory, memory.snapshot().blocks[block.id], "Edited after staging")


CHANGES = {
    "edited": lambda memory: edit(memory, some_block(memory), "Edited"),
    "staged then edited": staged_then_edited,
    "untracked": lambda memory: copy_of(memory, some_block(memory), "notes", "Untracked"),
    "removed": lambda memory: memory.path_of(some_block(memory)).unlink(),
    "assume-unchanged then edited": flagged("--assume-unchanged"),
    "skip-worktree then edited": flagged("--skip-worktree"),
    "replaced by a symlink": replaced_by_link,
    "untracked in a dot-folder": untracked_dot_folder,
    "committed in a dot-folder": committed_dot_folder,
    "nested repository": lambda memory: nested_repository(memory, add=False),
    "submodule": lambda memory: nested_repository(memory, add=True),
    "every file touched": lambda memory: [os.utime(p) for p in (memory.workdir / memory.root).rglob("*.md")],
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_snapshot_is_what_reading_every_file_gives(repo: Path, change: str) -> None:
    memory = Memory(repo)
    memory.snapshot()  # the stores warm, as before any real change
    CHANGES[change](memory)
    expected = parsed_every_file(memory)
    assert Memory(repo).snapshot() == expected
    assert Memory(repo).snapshot() == expected  # and again, from the stores


def listed(repo: Path, *args: str) -> list[dict]:
    result = run_mm("list", "--json", *args, cwd=repo)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_list_json_is_each_blocks_frontmatter_oldest_first_fresh_and_after_a_change(repo: Path) -> None:
    memory = Memory(repo)
    expected = [blk.to_mapping() for blk in memory.list()]
    assert listed(repo) == listed(repo) == expected  # cold, then from the kept listing
    assert (gitdir.blocks_cache(memory.git) / "listing-json").is_file()
    block = some_block(memory, 3)
    edit(memory, block, "A title changed after listing")
    after = listed(repo)
    assert after == [blk.to_mapping() for blk in Memory(repo).list()] != expected
    assert [row["title"] for row in after if row["id"] == block.id] == ["A title changed after listing"]
    assert listed(repo, "--at", "HEAD") == expected


@pytest.mark.parametrize("option", [("--type", "decision"), ("--status", "active"), ("--tag", "billing")])
def test_list_filters_give_the_blocks_the_library_gives(repo: Path, option: tuple[str, str]) -> None:
    name = option[0].removeprefix("--")
    expected = [blk.to_mapping() for blk in Memory(repo).list(**{name: option[1]})]
    assert listed(repo, *option) == expected
    text = run_mm("list", *option, cwd=repo).out.splitlines()
    assert [line.split()[0] for line in text] == [row["id"] for row in expected]


@pytest.mark.parametrize("warm", [False, True])
def test_a_malformed_or_duplicate_block_fails_the_listing_whatever_is_kept(repo: Path, warm: bool) -> None:
    memory = Memory(repo)
    if warm:
        listed(repo)
    block = some_block(memory, 2)
    twin = memory.workdir / memory.root / "notes" / f"{block.id}.md"
    twin.write_bytes(memory.path_of(block).read_bytes())
    for args in (("list",), ("list", "--json")):
        result = run_mm(*args, cwd=repo)
        assert result.code == 2 and block.id in result.err
    twin.unlink()
    memory.path_of(block).write_text("---\ntitle: [unclosed\n---\nbody\n")
    for args in (("list",), ("list", "--json")):
        result = run_mm(*args, cwd=repo)
        assert result.code == 2 and memory.path_of(block).name in result.err


def test_a_special_file_in_a_folder_remembered_by_its_stat_data_is_still_refused(repo: Path, monkeypatch) -> None:
    # Folders changed in the last two seconds are not remembered (racy); this test's folders all are.
    monkeypatch.setattr(worktree_blobs, "RACY_NS", 0)
    memory = Memory(repo)
    notes = memory.workdir / memory.root / "notes"
    os.utime(notes, (1_700_000_000, 1_700_000_000))
    memory.snapshot()
    (store,) = gitdir.blocks_cache(memory.git).glob("folders-*")
    assert f"{memory.root}/notes" in read_store(store, worktree_blobs.FOLDERS_FORMAT)
    fifo = notes / "N-20261201-f1f0f1.md"
    os.mkfifo(fifo)
    with pytest.raises(BlockError, match="is a FIFO"):
        Memory(repo).snapshot()
    fifo.unlink()
    assert Memory(repo).snapshot() == parsed_every_file(memory)
    (notes / "deeper").mkdir()
    os.mkfifo(notes / "deeper" / "N-20261201-f1f0f2.md")
    with pytest.raises(BlockError, match=r"deeper/N-20261201-f1f0f2\.md: is a FIFO"):
        listing_json(Memory(repo))


def test_a_vouched_file_that_changes_before_it_is_read_still_gives_the_blob_git_vouched_for(repo: Path) -> None:
    memory = Memory(repo)
    entries, read = worktree_blobs.block_blobs(str(repo), memory.root, 1 << 20, None, memory.git)
    path, sha = entries[0]
    assert read(sha) == memory.git.read_blob(sha)  # read from the file, which holds exactly that blob
    (repo / path).write_bytes(b"changed after git vouched for it\n")
    assert read(sha) == memory.git.read_blob(sha)
    (repo / path).unlink()
    assert read(sha) == memory.git.read_blob(sha)
