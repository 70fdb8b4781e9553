"""benchmarks/corpus.py: the generated memory every benchmark and corpus-based test relies on."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from conftest import fsck, git

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import corpus

from mindmem.errors import BlockError
from mindmem.store import blocks as b


@pytest.fixture(scope="module")
def big() -> corpus.Corpus:
    return corpus.make(1000, seed=0)


def by_id(blocks) -> dict[str, b.Block]:
    return {blk.id: blk for blk in blocks}


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not():
    first = corpus.files(corpus.generate(150, seed=3))
    assert first == corpus.files(corpus.generate(150, seed=3))
    assert corpus.make(150, seed=3).planted == corpus.make(150, seed=3).planted
    other = corpus.files(corpus.generate(150, seed=4))
    assert set(first) != set(other)
    assert corpus.files(corpus.generate(150, seed=3, start=date(2020, 1, 1))) != first


def test_ids_are_unique_well_formed_and_dated_by_created(big):
    ids = [blk.id for blk in big.blocks]
    assert len(set(ids)) == len(ids) == 1000
    for blk in big.blocks:
        b.check_id(blk.id, blk.type)
        if blk.type != "entity":
            assert blk.id.split("-")[1] == blk.created[:10].replace("-", "")
    created = [blk.created for blk in big.blocks]
    assert created == sorted(created)
    assert created[0] >= "2024-11-25" and created[-1] < "2026-11-26"


def test_every_block_round_trips_through_the_canonical_text(big):
    for blk in big.blocks:
        text = b.render(blk)
        parsed = b.parse(text.encode(), "x.md")
        assert parsed == blk
        assert b.render(parsed) == text


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        ("title: 'Weekly sync: billing'", "title", "Weekly sync: billing"),
        ("title: 'it''s done'", "title", "it's done"),
        ("tags: [a, 'b, c']", "tags", ("a", "b, c")),
        ("tags: [a,b]", "tags", ("a", "b")),
        ("tags: [ops]  # a comment", "tags", ("ops",)),
        ("citations: [src/a.py@3f2a1c9#L10-L42]", "citations", ("src/a.py@3f2a1c9#L10-L42",)),
        ("title: Déjà vu", "title", "Déjà vu"),
        ("confidence: 0.9", "extra", (("confidence", 0.9),)),
        ("reviewed: yes", "extra", (("reviewed", True),)),
        ("note: ~", "extra", (("note", None),)),
    ],
)
def test_frontmatter_values_read_as_yaml_reads_them(line, field, expected):
    """parse() reads canonical frontmatter with a fast path (see blocks.py); other YAML must still mean YAML."""
    title = "" if field == "title" else "title: T\n"  # a key given twice is refused, so `line` replaces it
    text = f"---\nid: N-20261125-aaaaaa\ntype: note\n{title}status: active\ncreated: 2026-11-25\n{line}\n---\nbody\n"
    assert getattr(b.parse(text, "x.md"), field) == expected


@pytest.mark.parametrize("line", ["title: yes", "title: 1.5", "title: [a]", "title: a: b", "on: x"])
def test_frontmatter_that_is_not_a_string_is_still_refused(line):
    text = f"---\nid: N-20261125-aaaaaa\ntype: note\nstatus: active\ncreated: 2026-11-25\ntitle: T\n{line}\n---\n"
    with pytest.raises(BlockError):
        b.parse(text, "x.md")


@pytest.mark.parametrize("seed", range(12))
def test_the_smallest_corpus_has_every_type_edge_type_and_planted_kind(seed):
    made = corpus.make(corpus.MIN_N, seed)
    assert {blk.type for blk in made.blocks} == set(b.TYPES)
    assert {blk.id.split("-")[0] for blk in made.blocks if blk.type == "entity"} == {"PER", "PRJ", "TOOL", "ORG"}
    assert {t for blk in made.blocks for t, _ in blk.edges} == set(b.EDGE_TYPES)
    assert sorted(p.kind for p in made.planted) == sorted(corpus.PLANTED_KINDS)


def test_too_small_a_corpus_is_refused():
    with pytest.raises(ValueError, match="at least"):
        corpus.make(corpus.MIN_N - 1)


def test_blocks_carry_realistic_fields(big):
    kinds = defaultdict(list)
    for blk in big.blocks:
        kinds[blk.type].append(blk)
    assert all(e.aliases for e in kinds["entity"] if e.id.startswith(("PER-", "PRJ-", "ORG-")))
    assert sum(1 for d in kinds["decision"] if d.constraint) > len(kinds["decision"]) / 2
    assert {d.constraint.axis for d in kinds["decision"] if d.constraint} >= {"storage.engine", "api.auth"}
    assert all(f.subject and f.predicate and f.obj and f.valid_from for f in kinds["fact"])
    assert {t.status for t in kinds["task"]} == set(b.STATUSES["task"])
    assert any(t.due for t in kinds["task"])
    assert all(blk.author and blk.tags for blk in big.blocks)
    cited = [c for blk in big.blocks for c in blk.parsed_citations()]
    assert len(cited) > 100 and any(c.start for c in cited)
    bodies = [blk.body for blk in big.blocks]
    assert sum("## " in body for body in bodies) > 500
    assert sum("`" in body for body in bodies) > 500
    assert sum("```" in body for body in bodies) > 20
    assert sum(bool(blk.wiki_links) for blk in big.blocks) > 500
    assert any(blk.extra for blk in big.blocks)  # keys people add survive


def test_no_dangling_edges_and_edges_point_back_in_time(big):
    """No dangling edge on purpose: edges and wiki links only name blocks created earlier."""
    index = {blk.id: i for i, blk in enumerate(big.blocks)}
    for i, blk in enumerate(big.blocks):
        for _, target in blk.all_edges():
            assert target in index, f"{blk.id} -> {target} dangles"
            assert index[target] < i


def test_supersedes_and_statuses_agree(big):
    blocks = by_id(big.blocks)
    superseded = {t for blk in big.blocks for t in blk.targets("supersedes")}
    assert superseded
    assert all(blocks[t].status == "superseded" for t in superseded)
    assert {blk.id for blk in big.blocks if blk.status == "superseded"} == superseded
    planted = set(big.planted)
    for blk in big.blocks:
        for target in blk.targets("contradicts"):
            resolved = blocks[target].status == "revoked"
            assert resolved or corpus.Planted("explicit_contradicts", target, blk.id) in planted


def test_each_planted_pair_is_the_contradiction_it_claims(big):
    blocks = by_id(big.blocks)
    assert len(big.planted) == len(corpus.PLANTED_KINDS)
    for planted in big.planted:
        older, newer = blocks[planted.older], blocks[planted.newer]
        assert older.status == newer.status == "active"
        assert older.created < newer.created
        assert planted.older not in newer.targets("supersedes")
        if planted.kind in ("must_vs_must_not", "two_musts"):
            a, c = older.constraint, newer.constraint
            assert (a.axis, a.scope) == (c.axis, c.scope)
            if planted.kind == "must_vs_must_not":
                assert (a.modality, c.modality, a.obj) == ("must", "must_not", c.obj)
            else:
                assert a.modality == c.modality == "must" and a.obj != c.obj
        elif planted.kind == "fact_overlap":
            assert (older.subject, older.predicate) == (newer.subject, newer.predicate)
            assert older.obj != newer.obj and older.valid_to is None and newer.valid_to is None
        else:
            assert newer.targets("contradicts") == (planted.older,)


def test_apart_from_the_planted_pairs_nothing_contradicts(big):
    """What a contradiction check should find in a corpus is exactly `Corpus.planted`."""
    active = [blk for blk in big.blocks if blk.status == "active"]
    found = set()
    by_constraint = defaultdict(list)
    for blk in active:
        if blk.constraint:
            by_constraint[(blk.constraint.axis, blk.constraint.scope)].append(blk.id)
    found |= {tuple(ids) for ids in by_constraint.values() if len(ids) > 1}
    by_claim = defaultdict(list)
    for blk in active:
        if blk.type == "fact":
            by_claim[(blk.subject, blk.predicate)].append(blk)
    for facts in by_claim.values():
        for i, x in enumerate(facts):
            for y in facts[i + 1 :]:
                if x.obj != y.obj and (x.valid_to or "9999") >= y.valid_from and (y.valid_to or "9999") >= x.valid_from:
                    found.add((x.id, y.id))
    ids = {blk.id for blk in active}
    found |= {(t, blk.id) for blk in active for t in blk.targets("contradicts") if t in ids}
    assert found == {(p.older, p.newer) for p in big.planted}


def test_history_batches_replay_to_the_final_state_without_dangling_edges(big):
    state: dict[str, b.Block] = {}
    batches = list(big.batches(7))
    assert len(batches) == 7 and sum(batch.added for batch in batches) == 1000
    assert [batch.when for batch in batches] == sorted(batch.when for batch in batches)
    changed_later = 0
    for batch in batches:
        changed_later += sum(blk.id in state for blk in batch.blocks)
        state.update(by_id(batch.blocks))
        for blk in state.values():
            assert all(target in state for _, target in blk.all_edges())
    assert changed_later > 50  # blocks really change over time (superseded, closed, tasks finished)
    assert state == by_id(big.blocks)


def test_build_repo_gives_a_clean_repo_mm_agrees_with(tmp_path, mm):
    path = corpus.build_repo(tmp_path / "mem", 60, seed=2, commits=4)
    listed = mm("list", "--json", cwd=path)
    assert listed.code == 0, listed.err
    assert len(json.loads(listed.out)) == 60
    validated = mm("validate", cwd=path)
    assert validated.code == 0, validated.out
    assert "60 block file(s), 0 problem(s)" in validated.out
    assert mm("fmt", "--check", cwd=path).code == 0
    assert git(path, "status", "--porcelain") == ""
    subjects = git(path, "log", "--reverse", "--format=%s").splitlines()
    assert subjects[0] == "Initialize mindmem memory" and len(subjects) == 5
    dates = git(path, "log", "--reverse", "--format=%cI").splitlines()[1:]
    assert dates == sorted(dates) and dates[0] < "2026"  # commits dated by the blocks they add
    early = mm("list", "--json", "--at", "HEAD~2", cwd=path)
    assert len(json.loads(early.out)) == 30
    fsck(path)


def test_build_repo_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        corpus.build_repo(tmp_path, 60)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
