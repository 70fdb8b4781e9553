"""Malformed blocks through every carrier: exit 0/1/2 only, no traceback, the source named, no write on refusal.

Crafted inputs (tests/malformed.py: bombs, bad bytes, odd YAML, limits) and hypothesis-generated
damage to a valid block go through `validate`, `new -b -`, `new --set`, `propose --file -`,
`propose --file PATH`, `import markdown`, `extract` and MCP `staged_change`, in-process.
Each run must also finish within `BOUND` seconds: generous on purpose (a shared machine must not
make it flaky), yet far below what an expanding alias bomb costs; benchmarks/bad_input.py
measures the real figures. MM_FUZZ_EXAMPLES raises the number of generated examples.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
from conftest import run_mm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from malformed import CARRIERS, CRAFTED, VALID, mutate

BOUND = 10.0
EXAMPLES = int(os.environ.get("MM_FUZZ_EXAMPLES", "12"))


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "template"
    path.mkdir()
    assert run_mm("init", "--commit", cwd=path).code == 0
    return path


def fresh(template: Path, where: Path) -> tuple[Path, Path]:
    """A copy of the template repo and an empty scratch folder for files outside it."""
    if where.exists():
        shutil.rmtree(where)
    repo = where / "repo"
    shutil.copytree(template, repo, symlinks=True)
    (where / "scratch").mkdir()
    return repo, where / "scratch"


def check_all_carriers(template: Path, where: Path, data: bytes, label: str) -> None:
    repo, scratch = fresh(template, where)
    for name, carrier in CARRIERS.items():
        outcome = carrier(repo, data, scratch)
        assert outcome.problems() == [], (label, name, outcome.err or outcome.out)
        assert outcome.seconds < BOUND, (label, name, outcome.seconds)


def test_the_valid_block_is_accepted_everywhere(template: Path, tmp_path: Path) -> None:
    repo, scratch = fresh(template, tmp_path / "run")
    for name, carrier in CARRIERS.items():
        outcome = carrier(repo, VALID, scratch)
        assert outcome.code == 0 and outcome.problems() == [], (name, outcome.err)


@pytest.mark.parametrize("label", list(CRAFTED))
def test_crafted_bad_input(template: Path, tmp_path: Path, label: str) -> None:
    check_all_carriers(template, tmp_path / "run", CRAFTED[label], label)


@settings(
    max_examples=EXAMPLES,
    deadline=None,  # the per-run bound above is the time limit; hypothesis' deadline would be per example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1))
def test_damaged_blocks(template: Path, tmp_path: Path, seed: int) -> None:
    data = mutate(random.Random(seed))
    check_all_carriers(template, tmp_path / "run", data, f"mutate(Random({seed}))")
