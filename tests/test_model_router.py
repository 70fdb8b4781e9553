"""The model router behind `mm ask --model`: replies held to the call schema, checked like agent input."""

from __future__ import annotations

import importlib.util
import json

import pytest
from gguf_tiny import write_tiny_llama

from mindmem.agents.model_router import CALL_SCHEMA, MODES, to_call
from mindmem.errors import BadInput

needs_llama = pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python missing")


def _reply(**fields):
    return {"tool": "recall", "mode": "similar", "query": "", "id": "", "subject": "", "type": "", **fields}


def test_flat_replies_become_dispatcher_calls():
    q = "why did the export fail?"
    assert to_call(_reply(mode="diagnose"), q).to_json() == {
        "tool": "recall", "arguments": {"query": q, "mode": "diagnose"}
    }  # fmt: skip
    assert to_call(_reply(tool="core", mode="get", id="D-20261125-7f3a9c"), q).arguments == {
        "action": "get", "id": "D-20261125-7f3a9c"
    }  # fmt: skip
    assert to_call(_reply(tool="core", mode="list", type="task"), q).arguments == {"action": "list", "type": "task"}
    assert to_call(_reply(tool="compiled_truth", mode="none", subject="PRJ-billing"), q).arguments == {
        "subject": "PRJ-billing"
    }
    assert to_call(_reply(tool="staged_change", mode="approve", id="P-20261125-abcdef"), q).arguments == {
        "phase": "approve", "proposal": "P-20261125-abcdef", "rationale": q
    }  # fmt: skip
    assert to_call(_reply(tool="kernels", mode="none"), q).arguments == {}


@pytest.mark.parametrize(
    "reply",
    [
        _reply(tool="recall", mode="expand"),
        _reply(tool="telepathy"),
        _reply(tool="staged_change", mode="approve", id="D-20261125-7f3a9c"),
        _reply(tool="graph", mode="expand", id=""),
        _reply(tool="core", mode="get", id="not an id"),
    ],
)
def test_replies_that_make_no_valid_call_are_refused(reply):
    with pytest.raises(BadInput, match="the model's call is not valid"):
        to_call(reply, "question")


@needs_llama
def test_a_real_gguf_replies_within_the_schema_and_mm_ask_never_crashes(tmp_path, repo, mm):
    from mindmem.agents.model_router import ModelRouter

    model = write_tiny_llama(tmp_path / "tiny.gguf")
    router = ModelRouter(str(model))
    data = router._ask("Q: why did the export fail?", CALL_SCHEMA)  # the grammar holds random weights to it
    assert set(data) == set(CALL_SCHEMA["properties"])
    assert data["tool"] in MODES and data["type"] in CALL_SCHEMA["properties"]["type"]["enum"]
    result = mm("ask", "why did the export fail?", "--model", str(model), "--json", cwd=repo)
    assert result.code in (0, 2), result.err
    if result.code == 0:
        answer = json.loads(result.out)
        # The model's call when it is valid, else the rules' (random weights rarely make a valid one).
        assert answer["router"] in ("model", "rules") and answer["call"]["tool"] in MODES
    else:
        assert result.err.startswith("mm: error: ") and "Traceback" not in result.err


def test_recall_uses_given_sub_queries_instead_of_the_rules(repo, mm):
    from mindmem.search.recall import recall
    from mindmem.store.memory import Memory

    mm("new", "fact", "-t", "The export runs at 02:00", cwd=repo)
    mm("new", "fact", "-t", "Priya owns the export job", cwd=repo)
    pid = json.loads(mm("propose", "--json", "-r", "facts about the export", cwd=repo).out)["id"]
    assert mm("approve", pid, cwd=repo).code == 0
    question = "when does it run and who owns it"
    by_rules = recall(Memory(repo), question).to_json()
    given = recall(Memory(repo), question, parts=["export schedule", "export owner"]).to_json()
    assert given["subqueries"] == ["export schedule", "export owner"] != by_rules["subqueries"]
    assert {hit["title"] for hit in given["results"]} == {"The export runs at 02:00", "Priya owns the export job"}


@needs_llama
def test_mm_recall_reformulate_with_a_model_never_crashes(tmp_path, repo, mm):
    model = write_tiny_llama(tmp_path / "tiny.gguf")
    mm("new", "note", "-t", "Export notes", cwd=repo)
    pid = json.loads(mm("propose", "--json", "-r", "notes about the export", cwd=repo).out)["id"]
    assert mm("approve", pid, cwd=repo).code == 0
    result = mm("recall", "export and owner", "--reformulate", "--model", str(model), "--json", cwd=repo)
    assert result.code in (0, 2), result.err
    if result.code == 0:
        assert json.loads(result.out)["subqueries"]
