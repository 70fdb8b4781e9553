"""The labelled contradiction cases (tests/fixtures/contradictions/) meet the quality bar."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import contradictions as bench  # benchmarks/contradictions.py scores the fixtures


def test_fixture_set_meets_precision_recall_and_has_no_critical_false_positive():
    cases = bench.load()
    assert len(cases) >= 80
    assert {c.label for c in cases} == {"conflict", "supersede", "none"}
    assert sum(c.label == "none" for c in cases) >= 30  # hard negatives
    outcomes = [bench.run_case(c) for c in cases]
    overall = bench.score(outcomes)
    assert overall.precision >= 0.95 and overall.recall >= 0.90
    assert overall.critical_false_positives == 0
    # Where a pair is flagged, the time-aware advice (supersede or not) is right.
    assert overall.suggestions_right == overall.suggestions
