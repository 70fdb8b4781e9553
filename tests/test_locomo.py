"""benchmarks/locomo.py on a small hand-written file in the LoCoMo format (tests/fixtures/locomo_mini.json)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import locomo
import locomo_folds

from mindmem.search import index
from mindmem.search.recall import recall
from mindmem.store import blocks as b

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "locomo_mini.json"


@pytest.fixture(scope="module")
def samples() -> list[locomo.Sample]:
    return locomo.load(FIXTURE)


@pytest.fixture(scope="module")
def by_turn(tmp_path_factory: pytest.TempPathFactory) -> locomo.Report:
    return locomo.evaluate(FIXTURE, "turn", workdir=tmp_path_factory.mktemp("turns"))


def test_the_file_reads_into_sessions_turns_and_questions(samples: list[locomo.Sample]) -> None:
    assert [s.sample_id for s in samples] == ["conv-a", "conv-b"]
    first = samples[0]
    assert first.speakers == ("Priya", "Tomas")
    assert [s.number for s in first.sessions] == [1, 2, 3, 4]
    assert first.sessions[0].when == datetime(2023, 3, 3, 16, 12)
    captioned = [t for t in first.turns if t.caption]
    assert captioned and "[shares a photo: a photo of a clay bowl" in captioned[0].said
    adversarial = [q for q in first.questions if q.category == 5]
    assert adversarial and all(q.answer for q in adversarial)  # read from adversarial_answer
    assert sum(len(s.questions) for s in samples) == 34


def test_evidence_ids_are_normalised() -> None:
    assert locomo.evidence_ids(["D1:3; D1:4", "D:2:5", "D1:3", "not an id", "D10:02"]) == (
        "D1:3",
        "D1:4",
        "D2:5",
        "D10:2",
    )


def test_blocks_one_per_turn_in_three_writings(samples: list[locomo.Sample]) -> None:
    sample = samples[0]
    made = locomo.to_blocks(sample, "turn")
    assert list(made) == [t.dia_id for t in sample.turns]
    assert locomo.to_blocks(sample, "turn") == made  # same file, same IDs
    assert len({blk.id for blk in made.values()}) == len(made)
    turn = made["D2:6"]
    assert turn.id.startswith("N-20230319-") and turn.created == "2023-03-19T10:05:00Z"
    # The documented writing: first words as title, "Speaker: text" as body, the speaker as author.
    assert turn.title == "I had a rough week. I sprained my …"
    assert turn.body == "Priya: I had a rough week. I sprained my ankle on a trail run yesterday."
    assert (turn.author, turn.subject) == ("Priya", None)
    bare = locomo.to_blocks(sample, "turn", "body")["D2:6"]
    assert (bare.title, bare.body, bare.author, bare.subject) == (turn.title, turn.body, None, None)
    as_subject = locomo.to_blocks(sample, "turn", "subject")["D2:6"]
    assert (as_subject.author, as_subject.subject) == (None, "PER-priya")
    assert b.parse(b.render(turn), "x.md") == turn
    sessions = locomo.to_blocks(sample, "session")
    assert list(sessions) == ["S1", "S2", "S3", "S4"]
    assert "Tomas: Exactly, they make picking arms" in sessions["S2"].body
    # The baseline sees exactly what a block holds: its title and its body.
    assert locomo.bm25_docs(sample, "turn")["D2:6"] == f"{turn.title}\n{turn.body}"


def test_speaker_ids() -> None:
    assert locomo.person_id("Caroline") == "PER-caroline"
    assert locomo.person_id("张伟").startswith("PER-speaker-")
    b.check_id(locomo.person_id("张伟"), "entity")


def test_turn_harness_figures(by_turn: locomo.Report) -> None:
    assert (by_turn.samples, by_turn.questions, by_turn.skipped) == (2, 33, 1)
    assert list(by_turn.scores) == ["bm25", "author", "body", "subject"]
    for scores in (*by_turn.scores.values(), by_turn.body_bm25):
        data = scores.to_json()
        assert set(data["categories"]) == {"1", "2", "3", "4", "5"}
        assert sum(c["questions"] for c in data["categories"].values()) == 33
        for group in (data["overall"], *data["categories"].values()):
            assert all(0.0 <= group[k] <= 1.0 for k in ("any@5", "any@10", "mrr"))
            assert group["any@5"] <= group["any@10"]
    out = locomo.table(by_turn)
    overall = [line for line in out.splitlines() if line.startswith("overall")]
    assert len(overall) == 1 and len(overall[0].split()) == 2 + 3 * 4
    assert "# spread between writings" in out and "# BM25 over the body alone" in out


def test_a_cached_repo_is_reused_and_its_index_kept(tmp_path: Path, samples: list[locomo.Sample]) -> None:
    first, keys = locomo.cached_repo(tmp_path, "f", samples[1], "turn", "author")
    again, same = locomo.cached_repo(tmp_path, "f", samples[1], "turn", "author")
    assert (again.git.workdir, same) == (first.git.workdir, keys)
    assert index.status(again).fresh
    other, _ = locomo.cached_repo(tmp_path, "g", samples[1], "turn", "author")  # another file: another repo
    assert other.git.workdir != first.git.workdir


def test_evidence_naming_no_turn_is_counted_apart(tmp_path: Path) -> None:
    data = json.loads(FIXTURE.read_text())[:1]
    data[0]["qa"] = [
        {"question": "What class did Tomas take?", "answer": "pottery", "evidence": ["D1:2"], "category": 4},
        {"question": "Where is the moon?", "answer": "up", "evidence": ["D9:99"], "category": 4},
        {"question": "Anything?", "answer": "no", "evidence": [], "category": 3},
    ]
    path = tmp_path / "small.json"
    path.write_text(json.dumps(data))
    report = locomo.evaluate(path, "turn", workdir=tmp_path, writings=("author",))
    assert (report.questions, report.skipped, report.unmatched) == (1, 1, 1)
    assert report.scores["author"].overall.figures()["any@5"] == 1.0
    assert "1 skipped (evidence names no turn)" in locomo.table(report)


def test_session_harness(tmp_path: Path) -> None:
    report = locomo.evaluate(FIXTURE, "session", limit_samples=1, workdir=tmp_path)
    assert (report.samples, report.questions, report.skipped) == (1, 18, 1)
    # Four sessions: every one is in the top 10.
    assert all(s.overall.figures()["any@10"] == 1.0 for s in report.scores.values())


def test_a_question_quoting_a_turn_finds_it_first(samples: list[locomo.Sample], tmp_path: Path) -> None:
    sample = samples[1]
    memory, keys = locomo.build_repo(tmp_path / "repo", sample, "turn", "body")
    hits = recall(memory, "charcoal and sand water filter", limit=5).hits
    assert keys[hits[0].id] == "D1:12"
    assert locomo.BM25(locomo.bm25_docs(sample, "turn")).rank("charcoal and sand water filter")[0] == "D1:12"
    # The repo is an ordinary memory repo: one commit of notes on top of `mm init`.
    assert len(memory.list(type="note", at="main")) == len(sample.turns)


def test_scoring_counts_the_first_hit() -> None:
    tally = locomo.Tally()
    tally.add(["x", "y", "gold"], {"gold"})
    tally.add(["x"] * 10 + ["gold"], {"gold"})  # past the top 10: a miss
    assert tally.figures() == {"any@5": 0.5, "any@10": 0.5, "mrr": pytest.approx(1 / 6)}


def test_cli_prints_a_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    locomo.main([str(FIXTURE), "--limit-samples", "1", "--json", "--no-cache"])
    data = json.loads(capsys.readouterr().out)
    assert [(d["unit"], d["samples"], d["skipped"]) for d in data] == [("turn", 1, 1), ("session", 1, 1)]
    locomo.main([str(FIXTURE), "--limit-samples", "1", "--unit", "session", "--no-cache"])
    out = capsys.readouterr().out
    assert "unit session" in out and "overall" in out and "5 adversarial" in out


def test_a_missing_file_is_skipped_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locomo.main([str(tmp_path / "absent.json")])
    assert "not found" in capsys.readouterr().out


def test_each_fold_chooses_its_knobs_without_the_conversation_it_is_scored_on(
    samples: list[locomo.Sample], tmp_path: Path
) -> None:
    # Setting A answers the first conversation's questions at rank 1 and the second's at rank 2; B the
    # other way round. Held out, each conversation must be scored with what the *other* one chose.
    a, b = (0.5, 0.4), (1.0, 0.1)
    keys = [(u, w) for u in locomo.UNITS for w in locomo.WRITINGS]
    found = {
        a: {k: {0: [1.0, 1.0], 1: [0.5, 0.5]} for k in keys},
        b: {k: {0: [0.5, 0.5], 1: [1.0, 1.0]} for k in keys},
    }
    rows, held_out = locomo_folds.folds(samples, found)
    assert [r["chosen"] for r in rows] == [dict(zip(locomo_folds.KNOBS, s, strict=True)) for s in (b, a)]
    assert all(ranks == {0: [0.5, 0.5], 1: [0.5, 0.5]} for ranks in held_out.values())
    assert locomo_folds.mrr(held_out, [0, 1]) == dict.fromkeys(keys, 0.5)
    # On the real file: every question with evidence gets a rank under every setting.
    _, measured = locomo_folds.measure(FIXTURE, [a], workers=1, workdir=tmp_path)
    asked = [sum(1 for q in s.questions if q.evidence) for s in samples]
    assert {k: [len(v[n]) for n in (0, 1)] for k, v in measured[a].items()} == dict.fromkeys(keys, asked)
