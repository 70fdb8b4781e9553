"""The search index follows git: incremental catch-up, rebuilds only when needed, a lock that cannot stick, --at."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import git
from recall_world import NEW_DECISION, OUTAGE, QUEUE_LIMIT, build_world, commit, write_block

from mindmem.errors import BadInput, NotFound
from mindmem.search import index, index_files, segments
from mindmem.store.memory import Memory

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture
def world(repo: Path) -> Path:
    build_world(repo)
    return repo


@pytest.fixture
def corpus_repo(tmp_path: Path) -> Path:
    import corpus

    return corpus.build_repo(tmp_path / "corpus", 80, seed=2, commits=3)


def ids_for(memory: Memory, text: str) -> list[str]:
    return [doc.id for doc in index.open_view(memory).search(text, limit=20)]


def test_first_catch_up_builds_then_nothing_to_do(world: Path) -> None:
    memory = Memory(world)
    assert index.status(memory).reason == "no index yet"
    first = index.catch_up(memory)
    assert first.rebuilt and first.fresh
    assert first.indexed == git(world, "rev-parse", "main").strip()
    assert first.documents == first.reindexed == 14
    second = index.catch_up(memory)
    assert (second.rebuilt, second.reindexed, second.removed) == (False, 0, 0)
    # Derived data lives in the git dir, never in the work tree.
    assert Path(first.path).is_relative_to(world / ".git" / "mindmem" / "index")
    assert git(world, "status", "--porcelain") == ""


def test_catch_up_reindexes_only_the_blocks_a_commit_touched(corpus_repo: Path) -> None:
    memory = Memory(corpus_repo)
    built = index.catch_up(memory)
    assert built.rebuilt and built.documents == 80
    path = sorted((corpus_repo / "memory" / "notes").glob("N-*.md"))[0]
    path.write_text(path.read_text() + "\nThe quokka migration finished.\n")
    commit(corpus_repo, "edit one note")

    after = index.catch_up(memory)
    assert (after.rebuilt, after.reindexed, after.removed, after.documents) == (False, 1, 0, 80)
    assert after.fresh and after.indexed == git(corpus_repo, "rev-parse", "HEAD").strip()
    assert ids_for(memory, "quokka") == [path.stem]


def test_scores_across_segments_equal_those_of_a_fresh_build(corpus_repo: Path) -> None:
    memory = Memory(corpus_repo)
    index.catch_up(memory)
    # A second segment with a deleted (replaced) document, as incremental catch-ups leave them.
    path = sorted((corpus_repo / "memory" / "facts").glob("F-*.md"))[0]
    path.write_text(path.read_text() + "\nThe quokka retention is ninety days.\n")
    commit(corpus_repo, "edit one fact")
    view = index.open_view(memory)
    assert len(view.leaves) > 1
    titles = [blk.title for blk in memory.list(at="HEAD")[:25]]
    queries = [*titles, "quokka retention", "When did PER-alice decide?"]
    ours = {text: view.search(text, limit=15) for text in queries}
    # Asked again, the cached scores give the same answer.
    assert all(view.search(text, limit=15) == ours[text] for text in queries)
    assert [d.id for d in view.search("quokka", limit=3)] == [path.stem]
    index.rebuild(memory)
    fresh = index.open_view(memory)
    assert len(fresh.leaves) == 1
    for text in queries:
        theirs = fresh.search(text, limit=15)
        assert [(d.id, d.score) for d in ours[text]] == [(d.id, d.score) for d in theirs], text


def test_segment_data_kept_across_catch_ups_gives_the_scores_of_a_fresh_build(corpus_repo: Path) -> None:
    # Lengths and postings read from a segment before a catch-up deleted one of its documents are reused after.
    memory = Memory(corpus_repo)
    queries = ["quokka retention", *(blk.title for blk in memory.list(at="HEAD")[:12])]
    for text in queries:
        index.open_view(memory).search(text, limit=15)
    for n, path in enumerate(sorted((corpus_repo / "memory" / "facts").glob("F-*.md"))[:2]):
        path.write_text(path.read_text() + f"\nThe quokka retention is {n + 2} days.\n")
        commit(corpus_repo, "edit one fact")
        after = index.catch_up(memory)
        assert (after.rebuilt, after.reindexed, after.documents) == (False, 1, 80)
        ours = {text: [(d.id, d.score) for d in index.open_view(memory).search(text, limit=15)] for text in queries}
    index.rebuild(memory)
    fresh = index.open_view(memory)
    assert ours == {text: [(d.id, d.score) for d in fresh.search(text, limit=15)] for text in queries}


def test_a_view_whose_segment_reader_was_dropped_is_made_again(
    world: Path, corpus_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segments, "MAX_READERS", 1)
    first, second = Memory(world), Memory(corpus_repo)
    assert NEW_DECISION in ids_for(first, "postgresql")
    ids_for(second, "quokka")  # opens the other index's segment: the first one's reader is closed
    assert QUEUE_LIMIT in ids_for(first, "queue limit messages")


def test_a_deleted_block_vanishes_from_the_index(world: Path) -> None:
    memory = Memory(world)
    index.catch_up(memory)
    assert OUTAGE in ids_for(memory, "invoices stopped")
    git(world, "rm", "-q", f"memory/incidents/{OUTAGE}.md")
    git(world, "commit", "-q", "-m", "drop the outage")
    after = index.catch_up(memory)
    assert (after.reindexed, after.removed, after.documents) == (0, 1, 13)
    assert OUTAGE not in ids_for(memory, "invoices stopped")


def test_moving_a_block_file_keeps_one_document(world: Path) -> None:
    memory = Memory(world)
    index.catch_up(memory)
    git(world, "mv", f"memory/facts/{QUEUE_LIMIT}.md", f"memory/notes/{QUEUE_LIMIT}.md")
    git(world, "commit", "-q", "-m", "misfile a fact")
    after = index.catch_up(memory)
    assert after.documents == 14
    assert index.open_view(memory).docs([QUEUE_LIMIT])[QUEUE_LIMIT].path == f"memory/notes/{QUEUE_LIMIT}.md"


def test_rebuild_when_the_index_folder_is_removed(world: Path) -> None:
    memory = Memory(world)
    index.catch_up(memory)
    shutil.rmtree(index.index_root(memory))
    again = index.catch_up(memory)
    assert again.rebuilt and again.reason == "no index yet" and again.documents == 14


def test_an_index_whose_whoosh_files_are_missing_is_rebuilt(world: Path) -> None:
    # A build killed after state.json was copied in but before whoosh wrote its table of contents,
    # or files removed by hand: the state alone is not trusted.
    memory = Memory(world)
    folder = Path(index.catch_up(memory).path)
    for toc in folder.glob("_MAIN_*.toc"):
        toc.unlink()
    again = index.catch_up(memory)
    assert again.rebuilt and "unreadable" in again.reason and again.documents == 14
    assert NEW_DECISION in ids_for(memory, "postgresql")


def test_a_damaged_cached_index_for_at_is_rebuilt(world: Path, mm) -> None:
    memory = Memory(world)
    old = git(world, "rev-parse", "HEAD").strip()
    write_block(world, {"id": QUEUE_LIMIT, "type": "fact", "title": "Event queue limit is 100k messages"}, "Raised.")
    commit(world, "raise the limit")
    assert mm("recall", "queue", "--at", old, cwd=world).code == 0
    cached = index.index_root(memory) / "at" / old
    for segment in cached.glob("*.seg"):
        segment.write_bytes(b"garbage")
    for toc in cached.glob("_MAIN_*.toc"):
        toc.write_bytes(b"\0")
    result = mm("recall", "queue limit messages", "--at", old, "--json", cwd=world)
    assert result.code == 0, result.err
    titles = [r["title"] for r in json.loads(result.out)["results"]]
    assert "Event queue limit is 10k messages" in titles


def test_rebuild_when_the_format_version_changes(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = Memory(world)
    index.catch_up(memory)
    monkeypatch.setattr(index_files, "FORMAT_VERSION", index.FORMAT_VERSION + 1)
    assert not index.status(memory).fresh
    again = index.catch_up(memory)
    assert again.rebuilt and "format" in again.reason
    assert json.loads((Path(again.path) / "state.json").read_text())["format"] == index_files.FORMAT_VERSION


def test_a_damaged_or_half_written_index_is_rebuilt_not_trusted(world: Path) -> None:
    memory = Memory(world)
    folder = Path(index.catch_up(memory).path)
    for segment in folder.glob("*.seg"):
        segment.write_bytes(b"garbage")
    for toc in folder.glob("_MAIN_*.toc"):
        toc.write_bytes(b"\0\0")
    again = index.catch_up(memory)
    assert again.rebuilt and "unreadable" in again.reason
    assert NEW_DECISION in ids_for(memory, "postgresql")

    (folder / "state.json").write_text("{not json")
    assert index.catch_up(memory).reason == "index state missing or unreadable"


def test_rebuild_when_the_indexed_commit_is_gone(world: Path) -> None:
    memory = Memory(world)
    folder = Path(index.catch_up(memory).path)
    state = json.loads((folder / "state.json").read_text())
    (folder / "state.json").write_text(json.dumps({**state, "commit": "1" * 40}))
    again = index.catch_up(memory)
    assert again.rebuilt and "no longer in the repository" in again.reason


def test_rewritten_history_is_caught_up_by_diff(world: Path) -> None:
    memory = Memory(world)
    index.catch_up(memory)
    write_block(world, {"id": "N-20261120-0c0c0c", "type": "note", "title": "Wombat sighting"})
    commit(world, "wombat")
    index.catch_up(memory)
    # Amend with the git binary: the indexed commit is no longer an ancestor of main, but it still exists.
    write_block(world, {"id": "N-20261120-0c0c0c", "type": "note", "title": "Numbat sighting"})
    git(world, "add", "-A", "memory")
    git(world, "commit", "-q", "--amend", "-m", "numbat")
    after = index.catch_up(memory)
    assert (after.rebuilt, after.reindexed) == (False, 1)
    assert ids_for(memory, "numbat") == ["N-20261120-0c0c0c"] and ids_for(memory, "wombat") == []


def test_a_block_that_does_not_parse_is_skipped_and_reported(world: Path) -> None:
    memory = Memory(world)
    (world / "memory" / "notes" / "N-20261121-bad000.md").write_text("---\nid: [unclosed\n---\n")
    commit(world, "broken block")
    status = index.catch_up(memory)
    assert status.skipped == ("memory/notes/N-20261121-bad000.md",) and status.documents == 14
    write_block(world, {"id": "N-20261121-bad000", "type": "note", "title": "Mended note"})
    commit(world, "mend it")
    mended = index.catch_up(memory)
    assert mended.skipped == () and mended.documents == 15


def test_recall_answers_from_the_governed_branch_not_the_checkout(world: Path, mm) -> None:
    memory = Memory(world)
    main = git(world, "rev-parse", "main").strip()
    git(world, "checkout", "-q", "-b", "feature")
    write_block(world, {"id": "N-20261122-feed00", "type": "note", "title": "Unapproved capybara idea"})
    feature = commit(world, "feature work")
    status = index.catch_up(memory)
    assert (status.ref, status.target, status.indexed, status.head) == ("main", main, main, feature)
    assert ids_for(memory, "capybara") == []
    found = mm("recall", "capybara", "--at", "HEAD", "--json", cwd=world)
    assert [r["id"] for r in json.loads(found.out)["results"]] == ["N-20261122-feed00"]


def test_the_index_lives_in_the_common_git_dir_of_worktrees(world: Path, tmp_path: Path) -> None:
    git(world, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "wt")
    here, there = Memory(world), Memory(tmp_path / "wt")
    assert index.index_root(there) == index.index_root(here) == world / ".git" / "mindmem" / "index"


# -- the lock ---------------------------------------------------------------------


HOLD_THE_LOCK = (
    "import sys, time; from mindmem.store.memory import Memory; from mindmem.search import index; "
    "held = Memory(sys.argv[1]).git.locked(index.LOCK); held.__enter__(); print('held', flush=True); "
    "time.sleep(float(sys.argv[2]))"
)


def lock_holder(world: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes the index lock (the store's flock) and keeps it for `seconds`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(world), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_killed_writer_never_leaves_the_index_stuck(world: Path) -> None:
    holder = lock_holder(world, 600)
    holder.kill()  # SIGKILL: no cleanup runs; the kernel drops the flock with the process
    holder.communicate()
    began = time.monotonic()
    status = index.catch_up(Memory(world))
    assert status.fresh and status.documents == 14 and time.monotonic() - began < 30


def test_a_live_writer_makes_the_next_one_wait_its_turn(world: Path) -> None:
    holder = lock_holder(world, 1.5)
    began = time.monotonic()
    status = index.catch_up(Memory(world))
    assert status.fresh and time.monotonic() - began >= 1.0
    holder.communicate()
    assert holder.returncode == 0


def test_concurrent_catch_ups_agree(world: Path) -> None:
    """Two processes catching up at once: the lock serialises them and both end fresh."""
    script = (
        "import sys; from mindmem.store.memory import Memory; from mindmem.search import index; "
        "s = index.catch_up(Memory(sys.argv[1])); print(s.fresh, s.documents)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.environ["GIT_CONFIG_GLOBAL"], GIT_CONFIG_NOSYSTEM="1")
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(world)], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60)[0].split() for p in procs]
    assert outs == [["True", "14"], ["True", "14"]]


# -- --at -------------------------------------------------------------------------


def test_at_answers_from_the_old_commit_with_a_cached_index(world: Path, mm) -> None:
    memory = Memory(world)
    old = git(world, "rev-parse", "HEAD").strip()
    write_block(world, {"id": QUEUE_LIMIT, "type": "fact", "title": "Event queue limit is 100k messages"}, "Raised.")
    commit(world, "raise the limit")

    def the_fact(*at: str) -> dict:
        results = json.loads(mm("recall", "queue limit messages", *at, "--json", cwd=world).out)["results"]
        return next(r for r in results if r["id"] == QUEUE_LIMIT)

    now, then = the_fact(), the_fact("--at", old)
    assert (now["id"], now["title"]) == (QUEUE_LIMIT, "Event queue limit is 100k messages")
    assert (then["id"], then["title"], then["commit"]) == (QUEUE_LIMIT, "Event queue limit is 10k messages", old)

    cached = index.index_root(memory) / "at" / old
    toc = next(cached.glob("_MAIN_*.toc"))
    stamp = toc.stat().st_mtime_ns
    assert mm("recall", "queue", "--at", old[:10], cwd=world).code == 0
    assert next(cached.glob("_MAIN_*.toc")).stat().st_mtime_ns == stamp  # reused, not rebuilt


def test_at_keeps_only_the_most_recently_used_indexes(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "AT_CACHE_SIZE", 2)
    memory = Memory(world)
    shas = [git(world, "rev-parse", "HEAD").strip()]
    for n in range(3):
        write_block(world, {"id": f"N-2026112{n}-00000{n}", "type": "note", "title": f"Note {n}"})
        shas.append(commit(world, f"note {n}"))
    for sha in shas[:3]:
        index.open_view(memory, sha)
    assert sorted(p.name for p in (index.index_root(memory) / "at").iterdir()) == sorted(shas[1:3])


def test_dates_name_the_last_commit_at_or_before_them(repo: Path) -> None:
    write_block(repo, {"id": "N-20260110-000001", "type": "note", "title": "January"})
    jan = commit(repo, "january", when="2026-01-10T12:00:00+00:00")
    write_block(repo, {"id": "N-20260310-000002", "type": "note", "title": "March"})
    march = commit(repo, "march", when="2026-03-10T12:00:00+00:00")
    memory = Memory(repo)
    assert index.resolve_at(memory, "2026-01-10") == jan  # a bare date means the end of that day
    assert index.resolve_at(memory, "2026-02-28") == jan
    assert index.resolve_at(memory, "2026-03-10T11:00:00Z") == jan
    assert index.resolve_at(memory, "2026-03-10T13:00:00+00:00") == march
    assert index.resolve_at(memory, "2099-01-01") == march
    assert index.resolve_at(memory, "HEAD~1") == jan
    with pytest.raises(NotFound, match="at or before 1999-01-01"):
        index.resolve_at(memory, "1999-01-01")
    with pytest.raises(BadInput, match="not a valid date"):
        index.resolve_at(memory, "2026-02-30")
    with pytest.raises(NotFound):
        index.resolve_at(memory, "no-such-branch")


# -- mm index ---------------------------------------------------------------------


def test_mm_index_status_and_rebuild(world: Path, mm) -> None:
    before = mm("index", "status", "--json", cwd=world)
    assert before.code == 0, before.err
    data = json.loads(before.out)
    assert {"path", "ref", "target", "head", "indexed", "fresh", "documents", "format", "reason"} <= data.keys()
    assert (data["fresh"], data["indexed"], data["reason"]) == (False, None, "no index yet")
    assert data["legs"] == ["bm25f"]  # what recall fuses, as MCP kernels says

    rebuilt = mm("index", "rebuild", "--json", cwd=world)
    assert rebuilt.code == 0, rebuilt.err
    data = json.loads(rebuilt.out)
    head = git(world, "rev-parse", "HEAD").strip()
    assert (data["fresh"], data["rebuilt"], data["indexed"], data["head"], data["documents"]) == (
        True,
        True,
        head,
        head,
        14,
    )
    text = mm("index", "status", cwd=world).out
    assert f"reflects: {head[:12]} (14 blocks)" in text and "fresh:    yes" in text and "legs:     bm25f" in text
