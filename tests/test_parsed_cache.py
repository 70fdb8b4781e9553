"""The parsed-block store (store/parsed.py) and the work tree's blob ids by stat data (store/worktree_blobs.py).

Snapshots read unchanged blocks from the store: a snapshot must be exactly what parsing every file
gives, with the store cold, warm, damaged or written by processes racing on it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git

from mindmem.errors import BlockError
from mindmem.store import blocks as b
from mindmem.store import gitdir, tiers, worktree_blobs
from mindmem.store.files import read_store, write_store
from mindmem.store.memory import Memory
from mindmem.store.parsed import ParsedBlocks, store_format
from mindmem.store.snapshot import is_block_path, load
from mindmem.store.worktree_blobs import block_blobs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import corpus

N = 60


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return corpus.build_repo(tmp_path / "mem", N, seed=5)


def parsed_every_file(memory: Memory, at: str | None = None):
    """The snapshot as parsing every file gives it, without the store."""
    if at is None:
        return load(memory.worktree_files(), memory.root, None)
    sha = memory.resolve_at(at)
    return load(memory.git.iter_files(sha, memory.root), memory.root, sha)


def stored(memory: Memory) -> dict[str, tuple]:
    folder = gitdir.blocks_cache(memory.git)
    return {**read_store(folder / "base", store_format()), **read_store(folder / "recent", store_format())}


def edit(memory: Memory, block_id: str | b.Block, title: str) -> Path:
    block = memory.get(block_id) if isinstance(block_id, str) else block_id
    path = memory.path_of(block)
    path.write_bytes(b.render(b.from_mapping({**block.to_mapping(), "title": title}, block.body, "t")).encode())
    return path


def test_snapshots_equal_parsing_every_file_cold_and_warm(repo: Path) -> None:
    memory = Memory(repo)
    for at in (None, "HEAD"):
        expected = parsed_every_file(memory, at)
        cold = memory.snapshot(at)
        warm = Memory(repo).snapshot(at)
        assert cold == warm == expected and len(expected) == N
    assert len(stored(memory)) == N  # the work tree and HEAD hold the same blobs


def test_unchanged_blocks_come_from_the_store(repo: Path) -> None:
    memory = Memory(repo)
    snap = memory.snapshot("HEAD")
    block_id = sorted(snap.blocks)[0]
    blob = memory.git.tree_blobs(snap.commit, memory.root)[snap.paths[block_id]]
    folder = gitdir.blocks_cache(memory.git)
    entries = stored(memory)
    # Plant a title in the stored entry of one blob: only a snapshot that reads the store shows it.
    entries[blob] = (entries[blob][0], entries[blob][1], "From the store", *entries[blob][3:])
    write_store(folder / "base", store_format(), entries)
    write_store(folder / "recent", store_format(), {})
    for at in ("HEAD", None):
        assert Memory(repo).snapshot(at).blocks[block_id].title == "From the store"


def test_a_changed_block_is_the_only_one_parsed(repo: Path) -> None:
    memory = Memory(repo)
    memory.snapshot()
    block_id = sorted(memory.snapshot().blocks)[3]
    path = edit(memory, block_id, "A new title")
    folder = gitdir.blocks_cache(memory.git)
    entries, read = block_blobs(str(repo), memory.root, memory.settings.max_block_bytes, folder, memory.git)
    cache = ParsedBlocks(folder)
    blocks = dict(cache.parsed(entries, read))
    assert cache.parses == 1  # only the edited file
    assert blocks[str(path.relative_to(repo))].title == "A new title"
    cache.save()
    assert memory.git.blob_sha(path.read_bytes()) in stored(memory)
    assert Memory(repo).snapshot() == parsed_every_file(memory)


@pytest.mark.parametrize("damage", [b"", b"not marshal at all", None])
def test_a_damaged_or_foreign_store_is_rebuilt_with_the_same_answers(repo: Path, damage: bytes | None) -> None:
    memory = Memory(repo)
    expected = parsed_every_file(memory, "HEAD")
    memory.snapshot("HEAD")
    base = gitdir.blocks_cache(memory.git) / "base"
    if damage is None:
        write_store(base, "mindmem-blocks/0/another-version", stored(memory))
    else:
        base.write_bytes(damage)
    (base.parent / "recent").unlink()
    assert Memory(repo).snapshot("HEAD") == expected
    assert len(stored(memory)) == N  # rewritten


def test_a_work_tree_change_that_keeps_size_and_times_is_still_seen(repo: Path, monkeypatch) -> None:
    # Files changed in the last two seconds are not remembered (racy); this test's files all are.
    monkeypatch.setattr(worktree_blobs, "RACY_NS", 0)
    memory = Memory(repo)
    block_id = sorted(memory.snapshot().blocks)[0]
    path = edit(memory, block_id, "Title one")
    past = (1_700_000_000, 1_700_000_000)
    os.utime(path, past)  # old enough to be remembered by its stat data
    assert Memory(repo).snapshot().blocks[block_id].title == "Title one"
    (by_stat,) = gitdir.blocks_cache(memory.git).glob("worktree-*")
    assert str(path.relative_to(repo)) in read_store(by_stat, worktree_blobs.FORMAT)  # known by its stat data
    edit(memory, block_id, "Title two")  # same length, same modification time: the change time moves
    os.utime(path, past)
    assert Memory(repo).snapshot().blocks[block_id].title == "Title two"
    assert Memory(repo).snapshot() == parsed_every_file(memory)


def test_a_malformed_file_is_the_same_error_with_the_store(repo: Path) -> None:
    memory = Memory(repo)
    memory.snapshot()
    block_id = sorted(memory.snapshot().blocks)[1]
    memory.path_of(memory.get(block_id)).write_text("---\ntitle: [unclosed\n---\nbody\n")
    with pytest.raises(BlockError) as plain:
        parsed_every_file(memory)
    for _ in range(2):
        with pytest.raises(BlockError) as cached:
            Memory(repo).snapshot()
        assert str(cached.value) == str(plain.value)


WRITER = """
import sys
from mindmem.store.memory import Memory
memory = Memory(sys.argv[1])
for _ in range(3):
    for branch in sys.argv[2:]:
        memory.snapshot(branch)
"""


def test_concurrent_writers_never_corrupt_the_store(repo: Path) -> None:
    memory = Memory(repo)
    ids = sorted(memory.snapshot().blocks)
    branches = []
    for n in range(4):  # four branches, each with its own edits, so each process parses new blobs
        git(repo, "checkout", "-q", "-b", f"w{n}", "main")
        for block_id in ids[n * 5 : n * 5 + 5]:
            edit(memory, block_id, f"Edited on branch w{n}")
        git(repo, "commit", "-q", "-am", f"edits {n}")
        branches.append(f"w{n}")
    git(repo, "checkout", "-q", "main")
    folder = gitdir.blocks_cache(memory.git)
    for name in ("base", "recent"):
        (folder / name).unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(repo), *branches[n:], *branches[:n]], env=env)
        for n in range(4)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]
    entries = stored(memory)
    assert entries  # a whole file, in this version's format
    for branch in branches:
        assert Memory(repo).snapshot(branch) == parsed_every_file(memory, branch)
    for sha, entry in entries.items():  # every stored entry is its blob's block
        assert entry[0] == b.parse(memory.git.read_blob(sha), "x.md").id


def test_a_file_changed_just_now_is_not_remembered_by_its_stat_data(repo: Path) -> None:
    memory = Memory(repo)
    block_id = sorted(memory.snapshot().blocks)[0]
    path = edit(memory, block_id, "Changed just now")
    assert Memory(repo).snapshot().blocks[block_id].title == "Changed just now"
    by_stat = next(gitdir.blocks_cache(memory.git).glob("worktree-*"), None)
    remembered = read_store(by_stat, worktree_blobs.FORMAT)
    # It could change again within the same clock tick without its times moving (git's racy-clean rule).
    assert str(path.relative_to(repo)) not in remembered


def test_recent_entries_are_folded_into_the_base_and_old_versions_dropped(repo: Path, monkeypatch) -> None:
    monkeypatch.setattr(tiers, "RECENT_LIMIT", 10)
    monkeypatch.setattr(tiers, "SPARE", 0)
    memory = Memory(repo)
    folder = gitdir.blocks_cache(memory.git)
    memory.snapshot()
    assert len(read_store(folder / "base", store_format())) == N and read_store(folder / "recent", store_format()) == {}
    blocks = [blk for _, blk in sorted(memory.snapshot().blocks.items())]
    edit(memory, blocks[0], "Edited once")
    Memory(repo).snapshot()
    assert len(read_store(folder / "recent", store_format())) == 1  # one new blob: a small write
    for n, block in enumerate(blocks[1:12]):
        edit(memory, block, f"Edited block {n}")
    assert Memory(repo).snapshot() == parsed_every_file(memory)
    # Past the limit the new entries join the base, and the versions no tree here uses are dropped.
    assert read_store(folder / "recent", store_format()) == {}
    assert len(read_store(folder / "base", store_format())) == N


def _blobs(memory: Memory) -> tuple[list[tuple[str, str]], dict[str, bytes]]:
    """(sha, path) of every block file at HEAD, and their bytes by sha, with one blob that does not parse."""
    files = {p: text for p, text in memory.git.iter_files(memory.git.head_commit(), memory.root) if is_block_path(p)}
    files["memory/notes/N-20260101-000bad.md"] = b"---\nid: [unclosed\n---\nBody.\n"
    data = {memory.git.blob_sha(text): text for text in files.values()}
    return [(memory.git.blob_sha(text), path) for path, text in files.items()], data


def test_a_cold_parse_shared_with_workers_gives_the_blocks_parsing_gives(repo: Path) -> None:
    memory = Memory(repo)
    wanted, data = _blobs(memory)
    cache = ParsedBlocks(None)
    cache.prefill(wanted, data.__getitem__, parts=2)
    assert cache.parses >= len(wanted) - 2  # every block but the broken one (and none twice)

    def unread(sha: str) -> bytes:
        raise AssertionError("prefilled blocks are not read again")

    for sha, path in wanted:
        if path.endswith("000bad.md"):
            with pytest.raises(BlockError) as caught:
                cache.block(sha, path, data.__getitem__)
            with pytest.raises(BlockError) as direct:
                b.parse(data[sha], path)
            assert str(caught.value) == str(direct.value)
            continue
        got, want = cache.block(sha, path, unread), b.parse(data[sha], path)
        assert (got.to_mapping(), got.body, got.wiki_links) == (want.to_mapping(), want.body, want.wiki_links)


def test_a_worker_that_fails_leaves_its_share_to_be_parsed_here(repo: Path, monkeypatch) -> None:
    from mindmem.store import workers

    def failing(module: str, args, share, spool=None):
        return subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.exit(3)"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    monkeypatch.setattr(workers, "start", failing)
    memory = Memory(repo)
    wanted, data = _blobs(memory)
    cache = ParsedBlocks(None)
    cache.prefill(wanted, data.__getitem__, parts=2)
    assert 0 < cache.parses < len(wanted)  # this process's own share only
    for sha, path in wanted:
        if not path.endswith("000bad.md"):
            assert cache.block(sha, path, data.__getitem__).to_mapping() == b.parse(data[sha], path).to_mapping()
