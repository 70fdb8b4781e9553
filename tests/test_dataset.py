"""`mm dataset dispatch`: deterministic, covering every dispatcher and mode, calls the dispatchers accept."""

from __future__ import annotations

import inspect
import json

from mindmem.agents.dataset import MODE_KEYS, dispatch_pairs, few_shot
from mindmem.agents.dispatch import DISPATCHERS, Dispatcher


def test_same_seed_same_pairs_and_every_mode_covered(mm, tmp_path):
    out = tmp_path / "pairs.jsonl"
    assert mm("dataset", "dispatch", "--count", "400", "--seed", "3", "-o", str(out)).code == 0
    again = mm("dataset", "dispatch", "--count", "400", "--seed", "3")
    assert out.read_text() == again.out
    other = mm("dataset", "dispatch", "--count", "400", "--seed", "4")
    assert other.out != again.out
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(pairs) == 400
    assert {p["call"]["tool"] for p in pairs} == set(DISPATCHERS)
    modes = {(p["call"]["tool"], p["call"]["arguments"].get("mode") or p["call"]["arguments"].get("phase")
              or p["call"]["arguments"].get("action")) for p in pairs}  # fmt: skip
    for mode in ("similar", "verify", "intent", "diagnose", "bundle"):
        assert ("recall", mode) in modes
    for phase in ("propose", "approve", "reject", "rollback"):
        assert ("staged_change", phase) in modes
    for action in ("expand", "prefetch", "contradict"):
        assert ("graph", action) in modes
    for action in ("status", "get", "list"):
        assert ("core", action) in modes


def test_held_out_split_never_shares_a_phrasing_with_train():
    pairs = list(dispatch_pairs(3000, seed=1))
    train = {p.template for p in pairs if p.split == "train"}
    test = {p.template for p in pairs if p.split == "test"}
    assert train and test and not train & test
    assert {p.call.tool for p in pairs if p.split == "test"} >= {"recall", "staged_change", "graph", "core"}


def test_every_expected_call_binds_to_the_dispatcher_signature():
    for pair in dispatch_pairs(500, seed=2):
        method = getattr(Dispatcher, pair.call.tool)
        inspect.signature(method).bind(None, **pair.call.arguments)
        if pair.call.tool == "recall":
            assert pair.call.arguments["query"] == pair.prompt


def test_bad_arguments(mm):
    assert mm("dataset", "dispatch", "--count", "0").code == 2
    assert mm("dataset", "dispatch", "--split", "validation").code == 2


def _key(call):
    return call.tool, next((str(call.arguments[k]) for k in MODE_KEYS if k in call.arguments), "-")


def test_few_shot_examples_are_train_pairs_with_every_call_first():
    every = {_key(p.call) for p in dispatch_pairs(400)}
    examples = few_shot(30)
    assert {_key(c) for _q, c in examples[: len(every)]} == every
    train = {p.prompt for p in dispatch_pairs(30 * 40, 5) if p.split == "train"}
    assert len(examples) == 30 and all(q in train for q, _c in examples)
