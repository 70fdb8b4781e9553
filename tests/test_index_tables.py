"""Posting tables beside the segments: the postings whoosh holds, for every term; damage is rebuilt."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from recall_world import commit
from whoosh import index as wix

from mindmem.search import bulk, index, index_files, segments, tables, view
from mindmem.store.memory import Memory

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture
def corpus_repo(tmp_path: Path) -> Path:
    import corpus

    return corpus.build_repo(tmp_path / "corpus", 90, seed=5, commits=2)


def edit_facts(repo: Path, count: int) -> None:
    for n, path in enumerate(sorted((repo / "memory" / "facts").glob("F-*.md"))[:count]):
        path.write_text(path.read_text() + f"\nThe quokka retention is {n + 2} days.\n")
        commit(repo, f"edit fact {n}")


def whoosh_postings(reader: object, field: str, term: bytes) -> tuple[np.ndarray, np.ndarray]:
    return segments.read(reader, field, term)  # type: ignore[arg-type]


def colliding(key: bytes) -> int:
    return len(key) % 7  # most keys share a hash with others: look-ups must compare the keys


@pytest.mark.parametrize("lookup", ["dict", "hash", "colliding hash"])
def test_every_segment_has_a_table_holding_what_whoosh_holds(
    corpus_repo: Path, monkeypatch: pytest.MonkeyPatch, lookup: str
) -> None:
    memory = Memory(corpus_repo)
    monkeypatch.setattr(tables, "SMALL_TABLE", 1_000_000 if lookup == "dict" else 0)
    if lookup == "colliding hash":
        monkeypatch.setattr(tables, "key_hash", colliding)  # in this process: no worker
    else:
        monkeypatch.setattr(bulk, "parts_for", lambda count: 2)  # one worker's segment, one of this process
    index.rebuild(memory)
    edit_facts(corpus_repo, 2)  # two catch-ups: segments whoosh wrote
    index.catch_up(memory)
    folder = index.index_root(memory) / "current"
    ix = wix.open_dir(str(folder))
    found = wix.TOC.read(ix.storage, ix.indexname).segments
    assert len(found) >= 2  # a build and a catch-up
    terms = 0
    for segment in found:
        reader = segments.reader(ix.storage, ix.schema, segment)
        table = tables.load(folder, segment.segment_id(), segment.doc_count_all())
        assert table is not None, segment.segment_id()
        for field, term in reader.all_terms():
            docnums, weights = table.postings(field, term)
            expected = whoosh_postings(reader, field, term)
            assert docnums.tolist() == expected[0].tolist() and weights.tolist() == expected[1].tolist()
            terms += 1
        for field in ix.schema.scorable_names():
            lengths = [reader.doc_field_length(n, field, 0) or 0 for n in range(segment.doc_count_all())]
            assert table.lengths(field) is None or table.lengths(field).tolist() == lengths
        assert table.postings("body", "no-such-term")[0].tolist() == []
    assert terms > 1000


def forget_open_indexes() -> None:
    """What a new process would know: nothing read from any index yet."""
    segments._tables.clear()
    while segments._readers:
        segments._readers.popitem()[1].close()
    view._VIEWS.clear()
    index_files._doc_count.cache_clear()
    index_files._open_cached.cache_clear()


def answers(memory: Memory, queries: list[str]) -> list[list[tuple[str, float]]]:
    view = index.open_view(memory)
    return [[(d.id, d.score) for d in view.search(q, limit=15)] for q in queries]


def test_an_index_without_tables_answers_the_same(corpus_repo: Path) -> None:
    memory = Memory(corpus_repo)
    queries = [blk.title for blk in memory.list(at="HEAD")[:20]] + ["quokka retention", "When did PER-alice decide?"]
    index.rebuild(memory)
    edit_facts(corpus_repo, 1)
    with_tables = answers(memory, queries)
    folder = index.index_root(memory) / "current"
    for table in folder.glob(f"*{tables.EXTENSION}"):
        table.unlink()
    forget_open_indexes()
    assert index.catch_up(memory).reason is None
    assert answers(memory, queries) == with_tables


def test_a_damaged_table_is_rebuilt_not_trusted(corpus_repo: Path) -> None:
    memory = Memory(corpus_repo)
    folder = Path(index.rebuild(memory).path)
    for table in folder.glob(f"*{tables.EXTENSION}"):
        # Replaced, not written in place: a process that maps the old file keeps reading the old file.
        table.unlink()
        table.write_bytes(table.name.encode() * 3)
    forget_open_indexes()
    again = index.catch_up(memory)
    assert again.rebuilt and "unreadable" in again.reason and again.documents == 90
    assert all(tables.load(folder, t.stem, 90) for t in folder.glob(f"*{tables.EXTENSION}"))
