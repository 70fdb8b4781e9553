"""The kept JSON listing spliced after changes (store/kept_listing.py): every listing must be, byte
for byte, what a listing made from nothing kept gives, and fail with the same error."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git, run_mm
from test_parsed_cache import edit

from mindmem.errors import BlockError
from mindmem.store import blocks as b
from mindmem.store import gitdir, kept_listing
from mindmem.store.files import read_store, write_store
from mindmem.store.listing import _kept_format, listing, listing_json
from mindmem.store.memory import Memory

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import corpus


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return corpus.build_repo(tmp_path / "mem", 40, seed=11)


def kept_files(memory: Memory) -> list[Path]:
    folder = gitdir.blocks_cache(memory.git)
    return [folder / kept_listing.TEXT, folder / kept_listing.KEPT]


def from_nothing(repo: Path, at: str | None = None) -> str:
    """The listing with nothing kept (the kept files are put back after, so the next listing splices)."""
    memory = Memory(repo)
    saved = {path: path.read_bytes() for path in kept_files(memory) if path.exists()}
    for path in saved:
        path.unlink()
    try:
        return listing_json(memory, at=at)
    finally:
        for path, data in saved.items():
            path.write_bytes(data)


def from_snapshot(repo: Path) -> str:
    """The listing as the blocks of a fresh snapshot give it: no row store, no kept text."""
    blocks = Memory(repo).list()
    return f"[{', '.join(json.dumps(blk.to_mapping(), ensure_ascii=False) for blk in blocks)}]"


def block_ids(memory: Memory) -> list[str]:
    return sorted(memory.snapshot().blocks)


def retitled(n: int) -> Callable[[Memory], None]:
    return lambda memory: edit(memory, block_ids(memory)[n], f"Retitled {n}")


def body_edited(memory: Memory) -> None:
    path = memory.path_of(memory.get(block_ids(memory)[5]))
    path.write_text(path.read_text() + "\nOne more line.\n")


def added(memory: Memory) -> None:
    """A copy of a block under a new ID, created earlier than every other block (first in the listing)."""
    block = memory.get(block_ids(memory)[7])
    new_id = block.id[:-6] + "0a0b0c"
    fields = {**block.to_mapping(), "id": new_id, "title": "Added", "created": "2001-01-01T00:00:00Z"}
    path = memory.workdir / memory.root / "notes" / f"{new_id}.md"
    path.write_text(b.render(b.from_mapping(fields, block.body, "t")))


def deleted(memory: Memory) -> None:
    memory.path_of(memory.get(block_ids(memory)[9])).unlink()


def renamed(memory: Memory) -> None:
    """A block file moved to another folder: the same blob under another path."""
    path = memory.path_of(memory.get(block_ids(memory)[11]))
    target = memory.workdir / memory.root / "archive" / path.name
    target.parent.mkdir(exist_ok=True)
    path.rename(target)


def several(memory: Memory) -> None:
    for change in (retitled(0), retitled(20), deleted, added):
        change(memory)


def reverted(memory: Memory) -> None:
    git(memory.workdir, "checkout", "-q", "--", memory.root)
    git(memory.workdir, "clean", "-q", "-fd", "--", memory.root)


def committed(memory: Memory) -> None:
    git(memory.workdir, "add", "-A", memory.root)
    git(memory.workdir, "commit", "-q", "-m", "changes")


STEPS = [retitled(3), body_edited, added, deleted, renamed, several, committed, retitled(3), reverted]


def test_each_spliced_listing_is_the_listing_made_from_nothing(repo: Path) -> None:
    memory = Memory(repo)
    first = listing_json(memory)
    assert first == from_snapshot(repo)
    for step in STEPS:
        step(memory)
        spliced = listing_json(Memory(repo))
        assert spliced == from_nothing(repo) == from_snapshot(repo), step
        assert listing_json(Memory(repo)) == spliced  # and again, unchanged
    assert listing_json(Memory(repo), at="HEAD~1") == from_nothing(repo, at="HEAD~1")
    assert listing_json(Memory(repo)) == from_snapshot(repo)  # from a revision back to the work tree


def test_the_command_prints_the_spliced_listing(repo: Path) -> None:
    assert run_mm("list", "--json", cwd=repo).code == 0
    memory = Memory(repo)
    retitled(4)(memory)
    added(memory)
    result = run_mm("list", "--json", cwd=repo)
    assert result.code == 0, result.err
    assert result.out == from_snapshot(repo) + "\n"
    assert json.loads(result.out)[0]["title"] == "Added"


def test_a_listing_of_no_blocks_and_then_some(repo: Path) -> None:
    memory = Memory(repo)
    listing_json(memory)
    for path in (memory.workdir / memory.root).rglob("*.md"):
        if path.name != "README.md":
            path.unlink()
    assert listing_json(Memory(repo)) == "[]" == from_snapshot(repo)
    reverted(memory)
    assert listing_json(Memory(repo)) == from_snapshot(repo) != "[]"


def damage_text(memory: Memory) -> None:
    path = kept_files(memory)[0]
    path.write_bytes(path.read_bytes()[:-40])


def other_text(memory: Memory) -> None:
    """A text store naming the kept digest but holding another text (as if two writers crossed)."""
    path = kept_files(memory)[0]
    texts = read_store(path, _kept_format())
    write_store(path, _kept_format(), {digest: "[ " + text[1:] for digest, text in texts.items()})


def crossed_writers(memory: Memory) -> None:
    """The rows of one listing beside the text of another."""
    folder = gitdir.blocks_cache(memory.git)
    old = (folder / kept_listing.KEPT).read_bytes()
    retitled(6)(memory)
    listing_json(Memory(memory.workdir))
    (folder / kept_listing.KEPT).write_bytes(old)


DAMAGE = {
    "text missing": lambda memory: kept_files(memory)[0].unlink(),
    "rows missing": lambda memory: kept_files(memory)[1].unlink(),
    "text torn": damage_text,
    "rows torn": lambda memory: kept_files(memory)[1].write_bytes(kept_files(memory)[1].read_bytes()[:100]),
    "rows garbage": lambda memory: kept_files(memory)[1].write_bytes(os.urandom(300)),
    "text of another length": other_text,
    "crossed writers": crossed_writers,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_or_missing_kept_listing_is_rebuilt(repo: Path, damage: str) -> None:
    memory = Memory(repo)
    listing_json(memory)
    DAMAGE[damage](memory)
    retitled(2)(memory)
    assert listing_json(Memory(repo)) == from_snapshot(repo)
    assert all(path.is_file() for path in kept_files(memory))
    retitled(8)(memory)  # and the rebuilt pair splices
    assert listing_json(Memory(repo)) == from_snapshot(repo)


def error_of(run: Callable[[], object]) -> str:
    with pytest.raises(BlockError) as caught:
        run()
    return f"{type(caught.value).__name__}: {caught.value}"


def twin(memory: Memory, files: list[Path], n: int, folder: str) -> Path:
    """A second file holding the block of `files[n]`, at another path (a duplicate ID)."""
    source = files[n]
    path = memory.workdir / memory.root / folder / f"{source.stem}.md"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(source.read_bytes())
    return path


def malformed(memory: Memory, files: list[Path], n: int) -> Path:
    path = files[n]
    path.write_text("---\ntitle: [unclosed\n---\nbody\n")
    return path


BAD = {
    "duplicate, new file first": lambda memory, files: twin(memory, files, 4, "aaa"),
    "duplicate, new file last": lambda memory, files: twin(memory, files, 4, "zzz"),
    "two duplicates": lambda memory, files: [twin(memory, files, 4, "zzz"), twin(memory, files, 6, "aaa")],
    "malformed": lambda memory, files: malformed(memory, files, 10),
    "malformed and a duplicate": lambda memory, files: [malformed(memory, files, 10), twin(memory, files, 3, "aaa")],
    "edited to another block's ID": lambda memory, files: edit_id(memory, files, 12, 13),
}


def edit_id(memory: Memory, files: list[Path], n: int, other: int) -> None:
    block, other_id = b.parse(files[n].read_bytes(), "t"), files[other].stem
    fields = {**block.to_mapping(), "id": other_id}
    files[n].write_text(b.render(b.from_mapping(fields, block.body, "t")))


@pytest.mark.parametrize("bad", BAD)
def test_errors_are_the_ones_a_listing_from_nothing_raises(repo: Path, bad: str) -> None:
    memory = Memory(repo)
    listing_json(memory)
    BAD[bad](memory, [memory.path_of(memory.get(block_id)) for block_id in block_ids(memory)])
    spliced = error_of(lambda: listing_json(Memory(repo)))
    assert spliced == error_of(lambda: from_nothing(repo)) == error_of(lambda: listing(Memory(repo)))
    assert spliced == error_of(lambda: Memory(repo).snapshot())
    result = run_mm("list", "--json", cwd=repo)
    assert result.code == 2 and spliced.split(": ", 1)[1] in result.err
    reverted(memory)
    assert listing_json(Memory(repo)) == from_snapshot(repo)  # the kept listing still splices
