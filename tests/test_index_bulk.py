"""A build's own segment writer: the files whoosh's writer makes, and several segments that answer as one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from recall_world import build_world, commit
from whoosh import index as wix
from whoosh.codec.whoosh3 import W3Codec, W3Segment
from whoosh.writing import SegmentWriter

from mindmem.errors import StateError
from mindmem.search import bulk, index, index_format
from mindmem.search.document import document, schema
from mindmem.search.terms import TEXT_ANALYZER, text_terms
from mindmem.store.blocks import parse
from mindmem.store.memory import Memory
from mindmem.store.snapshot import is_block_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

WORDS = ["Overcharged", "misconfigured", "over", "the", "a", "PostgreSQL-14", "db.backup", "3.5GB", "a*b", "İstanbul"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=12))
def test_text_terms_are_the_terms_of_the_whoosh_analyzer(words: list[str]) -> None:
    text = " ".join(words)
    assert text_terms(text) == [token.text for token in TEXT_ANALYZER(text)]


@pytest.fixture(scope="module")
def corpus_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import corpus

    return corpus.build_repo(tmp_path_factory.mktemp("bulk") / "corpus", 120, seed=4, commits=2)


def sources(memory: Memory) -> list[bulk.Source]:
    files = memory.git.iter_files(memory.git.head_commit(), memory.root)
    return [(p, data, memory.git.blob_sha(data)) for p, data in files if is_block_path(p)]


class FixedName(W3Codec):
    """Whoosh's codec with one segment name, so two writers' files can be compared byte for byte."""

    def new_segment(self, storage: object, indexname: str) -> W3Segment:
        return W3Segment(self, indexname, segid="fixedsegmentid")


def segment_files(folder: Path, writer: SegmentWriter, docs: list[dict]) -> dict[str, bytes]:
    for doc in docs:
        writer.add_document(**doc)
    writer.commit(merge=False)
    # Written as separate files (a compound file's directory also records when each part was written).
    return {f.name: f.read_bytes() for f in folder.iterdir() if f.name.startswith("MAIN_fixedsegmentid")}


def test_the_bulk_writer_writes_the_segment_whoosh_writes(corpus_repo: Path, tmp_path: Path) -> None:
    memory = Memory(corpus_repo)
    docs = [{**document(parse(data, p), p), "blob": blob} for p, data, blob in sources(memory)]
    # Values whoosh's analyzers treat specially: empty tags, repeated and prefixed words, odd spaces, no value.
    body = "over overcharged overcharged the THE misconfigured"
    docs[0] = {**docs[0], "tags": "a,, B ,a, ,", "body": body, "cues": ""}
    docs[1] = {**docs[1], "entities": "x\u00a0Y\tz  x", "links": "", "id": "", "subject": "Mixed Case"}
    theirs, ours = tmp_path / "whoosh", tmp_path / "bulk"
    theirs.mkdir(), ours.mkdir()
    options = {"codec": FixedName(), "compound": False}
    expected = segment_files(theirs, wix.create_in(str(theirs), schema()).writer(**options), docs)
    written = segment_files(ours, bulk.BulkWriter(wix.create_in(str(ours), schema()), **options), docs)
    assert {".trm", ".pst", "._stored.col"} <= {name[len("MAIN_fixedsegmentid") :] for name in expected}
    assert written == expected


def search_all(memory: Memory, queries: list[str]) -> dict[str, list[tuple[str, float]]]:
    view = index.open_view(memory)
    return {q: [(d.id, d.score) for d in view.search(q, limit=15)] for q in queries}


def test_a_build_in_parts_answers_as_a_build_in_one(
    corpus_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = Memory(corpus_repo)
    queries = [blk.title for blk in memory.list(at="HEAD")[:30]] + ["quokka retention", "When did PER-alice decide?"]
    one = index.rebuild(memory)
    assert len(index.open_view(memory).leaves) == 1
    answers = search_all(memory, queries)
    monkeypatch.setattr(bulk, "parts_for", lambda count: 3)  # two worker processes beside this one
    three = index.rebuild(memory)
    view = index.open_view(memory)
    assert len(view.leaves) == 3 and view.leaves[0].offset == 0
    assert (three.documents, three.skipped) == (one.documents, one.skipped) == (120, ())
    assert search_all(memory, queries) == answers
    assert index.catch_up(memory).reindexed == 0  # the state written last agrees with the files


def test_a_failed_worker_fails_the_build_and_leaves_nothing(corpus_repo: Path, tmp_path: Path) -> None:
    files = sources(Memory(corpus_repo))
    folder = tmp_path / "index"
    folder.mkdir()
    wix.create_in(str(folder), schema())
    (folder / "part-1").mkdir()  # the worker cannot make its folder
    with pytest.raises(StateError, match="index build worker failed"):
        bulk.build(folder, files, 2)


def test_a_build_that_fails_keeps_the_index_it_had(corpus_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = Memory(corpus_repo)
    before = index.rebuild(memory)

    def broken(folder: Path, files: list[bulk.Source], parts: int, progress: object = None) -> None:
        raise StateError("worker died")

    monkeypatch.setattr(bulk, "build", broken)
    with pytest.raises(StateError):
        index.rebuild(memory)
    root = index.index_root(memory)
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["current"]
    assert index_format.read_state(root / "current") == index_format.read_state(root / "current") is not None
    assert index.status(memory).fresh and index.status(memory).documents == before.documents


def test_an_index_of_no_blocks_answers_nothing(repo: Path) -> None:
    build_world(repo)
    for path in (repo / "memory").rglob("*.md"):
        path.unlink()
    commit(repo, "remove every block")
    memory = Memory(repo)
    assert index.rebuild(memory).documents == 0
    view = index.open_view(memory)
    assert view.leaves == [] and view.search("queue limit", limit=5) == []
    assert view.listing(["decision"], ["active"], 5) == [] and view.docs(["D-20261120-queue"]) == {}
