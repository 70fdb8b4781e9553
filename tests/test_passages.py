"""Passage scoring of long blocks, and the prior for blocks written on a date the question names."""

from __future__ import annotations

from pathlib import Path

import pytest
from recall_world import commit, write_block

from mindmem.search import passages, ranking
from mindmem.search.dates import Named, named_dates
from mindmem.search.recall import recall
from mindmem.store.memory import Memory

# Filler lines that share no word with the questions below: meeting minutes of some length.
FILLER = [
    "Reviewed the quarterly budget figures with finance.",
    "Agreed to move the standup to ten in the morning.",
    "Discussed hiring two engineers for the platform team.",
    "Printer on the third floor still jams every week.",
    "Lunch order for Friday goes through the office manager.",
    "Security training is due before the end of next month.",
    "The design review for onboarding screens slipped again.",
    "Parking permits renew at the front desk in person.",
    "Everyone should update their emergency contact details.",
    "Travel requests need approval two weeks ahead of trips.",
    "The wiki search is slow; someone will file a ticket.",
    "New laptops arrive for interns on the first Monday.",
    "The coffee machine gets descaled on alternate Thursdays.",
    "Quarterly goals are drafted by each lead before the offsite.",
    "Office plants need watering while the facilities lead is away.",
    "Two volunteers will organise the summer picnic this year.",
    "The shared calendar now shows public holidays for every country.",
    "Desk booking opens on Sunday evening for the following week.",
]


def minutes(*lines: str, at: int = 0) -> str:
    """A long body: the filler with `lines` put in at position `at`."""
    body = [*FILLER]
    body[at:at] = lines
    return "\n".join(body)


def test_a_long_block_whose_answer_is_one_passage_beats_one_that_only_scatters_the_words(repo: Path) -> None:
    # The answer: one line of long minutes. The distractor: shorter minutes holding each word of the
    # question once, far apart. As whole documents the distractor wins (same words, shorter body);
    # judged also by their best passage, the minutes that answer win.
    answer = "N-20260301-00ab01"
    scattered = "N-20260302-00ab02"
    write_block(
        repo,
        {"id": answer, "type": "note", "title": "Weekly sync"},
        minutes("The invoice export to the warehouse failed twice because of a timeout.", at=6),
    )
    write_block(
        repo,
        {"id": scattered, "type": "note", "title": "Monthly sync"},
        "\n".join(
            [
                "The invoice template got a new logo.",
                *FILLER[:5],
                "Export of slides to PDF works again.",
                *FILLER[5:10],
                "The warehouse team moved to building C.",
                *FILLER[10:15],
                "A timeout on the VPN is now eight hours.",
            ]
        ),
    )
    commit(repo, "minutes")
    question = "What happened to the invoice export to the warehouse, a timeout?"
    assert [h.id for h in recall(Memory(repo), question, limit=2).hits] == [answer, scattered]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ranking, "PASSAGE_WEIGHT", 0.0)
        assert [h.id for h in recall(Memory(repo), question, limit=2).hits] == [scattered, answer]


def test_a_short_block_keeps_its_document_score(repo: Path) -> None:
    write_block(repo, {"id": "N-20260301-00ac01", "type": "note", "title": "Export"}, "The invoice export failed.")
    write_block(repo, {"id": "N-20260301-00ac02", "type": "note", "title": "Minutes"}, minutes("Invoice export ok."))
    commit(repo, "notes")
    with_passages = recall(Memory(repo), "invoice export failed").hits
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ranking, "PASSAGE_WEIGHT", 0.0)
        without = recall(Memory(repo), "invoice export failed").hits
    short = {h.id: h.score for h in with_passages}["N-20260301-00ac01"]
    assert short == {h.id: h.score for h in without}["N-20260301-00ac01"]
    long = {h.id: h.score for h in with_passages}["N-20260301-00ac02"]
    assert long != {h.id: h.score for h in without}["N-20260301-00ac02"]


def test_a_passage_is_a_window_of_consecutive_lines_scored_by_bm25() -> None:
    # Lines: (a) (b b) (a c) (d) (d d); windows of two lines: 3, 4, 3 and 3 terms long.
    body = passages.Body((1, 2, 2, 1, 2), {"a": (0, 2), "b": (1, 1), "c": (2,), "d": (3, 4, 4)})
    assert passages.window_lengths(body.lengths, 2) == [3, 4, 3, 3]
    assert passages.window_lengths(body.lengths, 9) == [8]
    weights, lengths = ranking.DEFAULT, [3, 4, 3, 3]

    def best(idf: dict[str, float]) -> float:
        return passages.best_passage(body, 2, lengths, idf, weights, 3.25)

    # "a c": both terms once in the windows over lines 1-2 (4 terms) and 2-3 (3 terms); the shorter wins.
    both = ranking.normalised(1.0, 3, 3.25, weights.b)
    assert best({"a": 1.0, "c": 2.0}) == pytest.approx(3 * ranking.saturate(both, weights.k1))
    # "d" twice in the last window beats it once in the one before.
    last = ranking.normalised(1.0, 3, 3.25, weights.b)
    assert best({"d": 1.0}) == pytest.approx(ranking.saturate(3 * last, weights.k1))
    assert best({"x": 1.0}) == 0.0


def test_a_passage_term_is_weighed_by_the_lines_that_hold_it() -> None:
    # Two bodies of three lines each: "name" is on every line, "race" on one, "group" on two; "absent" on none.
    bodies = [
        passages.Body((2, 2, 3), {"name": (0, 1, 2), "race": (2,), "group": (0, 0)}),
        passages.Body((1, 1, 2), {"name": (0, 1, 2), "group": (2,)}),
    ]
    index_idf = {"name": 0.1, "race": 2.0, "group": 0.5, "absent": 3.0}
    idf = passages.line_idf(bodies, index_idf)
    assert set(idf) == {"name", "race", "group"}
    # Among the six lines: race (one line) > group (two, one of them twice) > name (every line).
    assert idf["race"] > idf["group"] > idf["name"]
    assert idf["race"] / idf["group"] == pytest.approx(ranking.idf(6, 1) / ranking.idf(6, 2))
    # Together they weigh what their index idf does, so a passage score stays on the document score's scale.
    assert sum(idf.values()) == pytest.approx(0.1 + 2.0 + 0.5)
    assert passages.line_idf(bodies, {"absent": 3.0}) == {}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("What did Gina find on 1 February, 2023?", [Named(2023, 2, 1)]),
        ("accepted on May 23, 2023?", [Named(2023, 5, 23)]),
        ("What did he read on 8th December, 2023?", [Named(2023, 12, 8)]),
        ("the forest picture from December 1,2023", [Named(2023, 12, 1)]),
        ("what broke in August 2023", [Named(2023, 8, None)]),
        ("camping in July", [Named(None, 7, None)]),
        ("the incident of 2024-03-09", [Named(2024, 3, 9)]),
        ("plans for 2024", [Named(2024, None, None)]),
        ("at 10:30 on June 3", [Named(None, 6, 3)]),
        ("between August 11 and August 15 2023", [Named(None, 8, 11), Named(2023, 8, 15)]),
        # Month names that are everyday words need a day or a year beside them.
        ("you may deploy in March if it is ready", []),
        ("What may Alice march for?", []),
        ("what is the rate limit", []),
    ],
)
def test_dates_a_question_names(text: str, named: list[Named]) -> None:
    assert sorted(named_dates(text), key=repr) == sorted(named, key=repr)


def test_a_date_matches_as_precisely_as_it_was_named() -> None:
    assert Named(2023, 6, 3).matches("2023-06-03T13:56:00Z")
    assert not Named(2023, 6, 3).matches("2023-06-04T00:00:00Z")
    assert Named(None, 6, None).matches("2021-06-30T00:00:00Z")
    assert not Named(2023, None, None).matches("2022-12-31T23:59:59Z")
    assert not Named(2023, None, None).matches("")


def test_blocks_written_on_the_date_the_question_names_come_first(repo: Path) -> None:
    lunches = (("N-20230510-00ad01", "2023-05-10T09:00:00Z"), ("N-20230603-00ad02", "2023-06-03T09:00:00Z"))
    for block_id, created in lunches:
        write_block(
            repo,
            {"id": block_id, "type": "note", "title": "Team lunch", "created": created},
            "Priya booked the team lunch at the noodle place.",
        )
    commit(repo, "two lunches")
    memory = Memory(repo)
    assert recall(memory, "Where was the team lunch on 3 June, 2023?", limit=1).hits[0].id == "N-20230603-00ad02"
    assert recall(memory, "Where was the team lunch on May 10, 2023?", limit=1).hits[0].id == "N-20230510-00ad01"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ranking, "DATE_PRIOR", 0.0)
        tied = recall(memory, "Where was the team lunch on 3 June, 2023?").hits
        assert tied[0].score == tied[1].score
