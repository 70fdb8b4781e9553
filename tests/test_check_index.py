"""The key index behind incremental checks (checks/keyindex.py, checks/indexed.py).

An incremental check reads its neighbours from the index and the tree diff, not from every digest:
it must find exactly what the check over every digest finds, stay right as the tree it was built
for moves, rebuild itself when the file is damaged, and stay right with processes racing on it.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import git

from mindmem.checks import context_for, run_checks
from mindmem.checks import sources as src
from mindmem.checks.cache import BlockCache
from mindmem.store import blocks as b
from mindmem.store import gitdir
from mindmem.store.memory import Memory
from mindmem.store.parsed import MANY
from mindmem.store.snapshot import is_block_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import corpus

N = 300


def findings(ctx) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    return sorted((f.code, f.severity, tuple(f.blocks), f.path) for f in run_checks(ctx))


def both(memory: Memory, source: src._Source) -> tuple[list, list]:
    """Findings through the key index, and through the full set of digests (the source as a plain listing)."""
    cache = BlockCache(gitdir.checks_cache(memory.git))
    indexed = findings(src._build(memory, cache, source, full=False))
    listed = replace(source, tree=None, on_top=source.entries(memory))
    return indexed, findings(src._build(memory, cache, listed, full=False))


def index_file(memory: Memory) -> Path:
    return gitdir.checks_cache(memory.git) / "keys.sqlite"


@pytest.fixture
def big(tmp_path: Path) -> Path:
    return corpus.build_repo(tmp_path / "big", N, seed=2)


def edited(block: b.Block, **fields: object) -> bytes:
    return b.render(b.from_mapping({**block.to_mapping(), **fields}, block.body + "\n\nEdited.", "test")).encode()


def clash_with(block: b.Block) -> tuple[str, bytes]:
    """A new active decision that contradicts `block`'s constraint (must_not what it must)."""
    assert block.constraint is not None and block.constraint.modality == "must"
    meta = {**block.to_mapping(), "id": "D-20270101-c0ffee", "created": "2027-01-01T00:00:00Z", "supersedes": []}
    rule = dict(meta["constraint"])
    rule["modality"] = "must_not"
    meta["constraint"] = rule
    meta.pop("edges", None)
    new = b.from_mapping(meta, "A clash.", "test")
    return f"memory/{b.block_relpath(new)}", b.render(new).encode()


def test_staged_changes_find_what_the_full_catalog_finds(big: Path) -> None:
    memory = Memory(big)
    snap = memory.snapshot("HEAD")
    rng = random.Random(5)
    decision = next(
        blk
        for blk in snap.blocks.values()
        if blk.constraint and blk.constraint.modality == "must" and blk.status == "active"
    )
    rel, data = clash_with(decision)
    (big / rel).write_bytes(data)
    for block_id in rng.sample(sorted(snap.blocks), 6):  # edits, a deletion, an entity renamed
        path = big / snap.paths[block_id]
        if block_id.startswith("N-"):
            path.unlink()
        else:
            path.write_bytes(edited(snap.blocks[block_id], title=f"Renamed {block_id}"))
    git(big, "add", "-A")
    indexed, listed = both(memory, src._staged(memory, None, {}))
    assert indexed == listed
    assert any(code.startswith("MM-C") and decision.id in ids for code, _, ids, _ in indexed)
    assert index_file(memory).is_file()


def test_the_index_follows_the_tree_through_many_commits(big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ranges over a moving history: the index is moved (threshold 0) and read through diffs both ways."""
    monkeypatch.setattr("mindmem.checks.indexed.MOVE_AFTER", 0)
    memory = Memory(big)
    snap = memory.snapshot("HEAD")
    rng = random.Random(9)
    commits = [git(big, "rev-parse", "HEAD").strip()]
    for round_ in range(4):
        changes = {}
        for block_id in rng.sample(sorted(snap.blocks), 5):
            changes[snap.paths[block_id]] = edited(snap.blocks[block_id], title=f"Round {round_} {block_id}")
        memory.git.commit_files("main", changes, f"round {round_}\n", memory.person())
        commits.append(memory.git.branch_tip("main"))
    for a, b_ in [(0, 1), (3, 4), (1, 3), (0, 4), (2, 3)]:  # backwards and forwards
        indexed, listed = both(memory, src._range(memory, f"{commits[a]}..{commits[b_]}"))
        assert indexed == listed, (a, b_)


def test_a_check_moves_the_index_to_its_tree_or_reads_through_the_diff_when_it_cannot(
    big: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check of a few changed files leaves the index at the checked tree, so the next approve's gate (its
    tree is made on top of this one) diffs nothing new; an index it cannot write is read through the diff."""
    from mindmem.checks.keyindex import KeyIndex

    memory = Memory(big)
    snap = memory.snapshot("HEAD")
    context_for(memory, rev_range="HEAD~1..HEAD")  # the index starts at the corpus's tree
    picked = sorted(snap.blocks)[:3]
    trees = []
    for block_id in picked:
        changes = {snap.paths[block_id]: edited(snap.blocks[block_id], title=f"Moved {block_id}")}
        memory.git.commit_files("main", changes, f"edit {block_id}\n", memory.person())
        trees.append(memory.git.commit_info(memory.git.branch_tip("main")).tree)
    indexed, listed = both(memory, src._range(memory, "HEAD~1..HEAD"))
    assert indexed == listed
    assert KeyIndex(index_file(memory)).tree() == trees[-1]

    def busy(*args: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(KeyIndex, "move", busy)
    indexed, listed = both(memory, src._range(memory, "HEAD~3..HEAD~1"))
    assert indexed == listed
    assert KeyIndex(index_file(memory)).tree() == trees[-1]  # unmoved, and still right


def test_a_damaged_index_is_rebuilt(big: Path) -> None:
    memory = Memory(big)
    context_for(memory, rev_range="HEAD~1..HEAD")
    file = index_file(memory)
    for suffix in ("-wal", "-shm"):
        Path(f"{file}{suffix}").unlink(missing_ok=True)
    file.write_bytes(b"not a database at all" * 100)
    before = findings(context_for(memory, rev_range="HEAD~1..HEAD"))
    assert file.read_bytes().startswith(b"SQLite format 3")
    assert before == findings(context_for(memory, rev_range="HEAD~1..HEAD"))


def test_a_git_dir_it_cannot_write_still_gets_checked(big: Path) -> None:
    """No key index (a read-only clone in CI, say): the check reads every digest instead, same findings."""
    memory = Memory(big)
    expected = findings(context_for(memory, rev_range="HEAD~1..HEAD", full=False))
    folder = gitdir.checks_cache(memory.git)
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
    folder.write_bytes(b"")  # a file where the folder should be: nothing can be created under it
    assert findings(context_for(memory, rev_range="HEAD~1..HEAD", full=False)) == expected


RACER = """
import json, sys
from mindmem.checks import context_for, run_checks
from mindmem.store.memory import Memory
import mindmem.checks.indexed as indexed
indexed.MOVE_AFTER = 0  # every check moves the index: the most writing there can be
memory = Memory(sys.argv[1])
out = []
for rev_range in json.loads(sys.argv[2]):
    ctx = context_for(memory, rev_range=rev_range)
    out.append([rev_range, sorted((f.code, f.severity, list(f.blocks), f.path) for f in run_checks(ctx))])
print(json.dumps(out))
"""


def test_processes_racing_on_the_index_each_see_one_tree(big: Path) -> None:
    memory = Memory(big)
    snap = memory.snapshot("HEAD")
    rng = random.Random(13)
    commits = [memory.git.branch_tip("main")]
    for round_ in range(3):
        picked = rng.sample(sorted(snap.blocks), 4)
        changes = {snap.paths[i]: edited(snap.blocks[i], title=f"Race {round_} {i}") for i in picked}
        memory.git.commit_files("main", changes, f"round {round_}\n", memory.person())
        commits.append(memory.git.branch_tip("main"))
    ranges = [f"{commits[i]}..{commits[j]}" for i in range(4) for j in range(4) if i != j]
    expected = {}
    for rev_range in ranges:
        ctx = context_for(memory, rev_range=rev_range, full=False)
        expected[rev_range] = [[c, s, list(ids), p] for c, s, ids, p in findings(ctx)]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(big), json.dumps(random.Random(k).sample(ranges, len(ranges)))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(4)
    ]
    for racer in racers:
        out, err = racer.communicate(timeout=600)
        assert racer.returncode == 0, err
        for rev_range, found in json.loads(out):
            assert found == expected[rev_range], rev_range


def test_a_cold_store_reads_many_blobs_in_one_go_and_digests_them_alike(big: Path) -> None:
    memory = Memory(big)
    entries = {
        p: sha for p, sha in memory.git.tree_blobs(memory.git.head_commit(), memory.root).items() if is_block_path(p)
    }
    # A staged file whose blob only the caller holds: the bulk read leaves it to `read`.
    note = b.from_mapping(
        {
            "id": "N-20260101-abcdef",
            "type": "note",
            "title": "Only staged",
            "status": "active",
            "created": "2026-01-01",
        },
        "Body.",
        "t",
    )
    staged = b.render(note).encode()
    entries["memory/notes/N-20260101-abcdef.md"] = memory.git.blob_sha(staged)
    assert len(entries) > MANY  # what makes a cold store read in one go
    asked: list[str] = []

    def read(sha: str) -> bytes:
        asked.append(sha)
        return staged if sha == entries["memory/notes/N-20260101-abcdef.md"] else memory.git.read_blob(sha)

    alone = BlockCache(None).digests_of(entries, read)
    assert len(asked) == len(set(entries.values()))
    asked.clear()
    together = BlockCache(None).digests_of(entries, read, lambda shas: memory.git.read_blobs(shas))
    assert together == alone and "memory/notes/N-20260101-abcdef.md" in together
    assert asked == [entries["memory/notes/N-20260101-abcdef.md"]]
    assert [sha for sha, _ in memory.git.read_blobs([memory.git.head_commit(), "0" * 40])] == []
