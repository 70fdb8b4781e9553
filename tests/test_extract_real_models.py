"""Opt-in: extraction with a real instruct model, when one is on this machine.

Without MM_TEST_MODEL, these tests skip and say how to get a model.
Slow (minutes on a busy 2-core machine), so they run only when MM_TEST_MODEL is set (to a path, or
to "1.5b" for the file benchmarks/models.py fetched).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from datetime import date
from pathlib import Path

import pytest

from mindmem.extract import get_extractor
from mindmem.extract.base import Context
from mindmem.store.snapshot import Snapshot

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from models import model_path

MEETING = (Path(__file__).resolve().parent.parent / "examples" / "meeting.md").read_text()
# Where benchmarks/models.py put it, read before the tests' fresh HOME hides the real cache.
FETCHED = model_path("qwen-1.5b")


def _model() -> Path:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (extra llm)")
    chosen = os.environ.get("MM_TEST_MODEL")
    if not chosen:
        pytest.skip("opt-in: set MM_TEST_MODEL=PATH.gguf (python benchmarks/models.py fetches Qwen2.5-Coder)")
    path = Path(chosen) if chosen != "1.5b" else FETCHED
    if not path.is_file():
        pytest.skip(f"no model at {path}: run python benchmarks/models.py")
    return path


def test_a_real_model_gives_a_usable_reply_whose_every_candidate_is_grounded() -> None:
    context = Context(date(2026, 11, 24), Snapshot(None), "meeting.md")
    extractor = get_extractor("llama-cpp", {"model": str(_model())})
    found = extractor.extract(MEETING, context)
    assert extractor.calls and all(call["usable"] for call in extractor.calls)
    assert found.candidates, "an instruct model finds something in these notes"
    for cand in found.candidates:
        assert MEETING[cand.span.start : cand.span.end] == cand.span.text
        if cand.type == "entity":
            assert cand.title.lower() in MEETING.lower()


def test_hybrid_with_a_real_model_keeps_everything_the_rules_find() -> None:
    context = Context(date(2026, 11, 24), Snapshot(None), "meeting.md")
    rules = get_extractor("rules").extract(MEETING, context)
    hybrid = get_extractor("hybrid", {"model": str(_model())}).extract(MEETING, context)
    assert not hybrid.warnings, "the model's labels were usable"
    assert all(c in hybrid.candidates for c in rules.candidates)
    # What the model adds comes from sentences the rules left, one candidate a sentence.
    ruled = {(c.span.start, c.span.end) for c in rules.candidates if c.type != "entity"}
    added = [c for c in hybrid.candidates if c.type != "entity" and c not in rules.candidates]
    assert all((c.span.start, c.span.end) not in ruled and c.type in ("decision", "fact", "incident") for c in added)
