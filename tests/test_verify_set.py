"""verify on a labelled set of claims over the generated corpus: supported, contradicted, unknown.

The labels come from the corpus itself: an active open fact stated as it is (supported), the same
subject and predicate with another value of the same kind (contradicted), and claims about things
the corpus never mentions (unknown). The bar: accuracy at least 0.9, and no contradicted claim ever
called supported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import corpus
from corpus_words import FACT_PREDICATES, FACT_VALUES

from mindmem.search.recall import recall
from mindmem.store.blocks import Block
from mindmem.store.memory import Memory

UNKNOWN = (
    "the cafeteria serves pizza on fridays",
    "the office plants are watered by a robot",
    "our mascot is a purple giraffe named Ziggy",
    "the summer party moved to a lighthouse",
    "every laptop sticker must be hexagonal",
    "the coffee machine speaks fluent Latin",
)


def _kind(fact: Block) -> str:
    return FACT_PREDICATES[(fact.subject or "").split("-", 1)[0]][fact.predicate or ""][1]


def _other_value(fact: Block, ids: dict[str, list[str]]) -> str | None:
    kind, value = _kind(fact), fact.obj or ""
    if kind == "version":
        major, _, minor = value.partition(".")
        return f"{major}.{int(minor or 0) + 1}"
    if kind == "channel":
        return None
    choices = ids.get(kind, []) if kind in ("PER", "PRJ", "TOOL") else list(FACT_VALUES.get(kind, ()))
    others = [c for c in choices if c not in (value, fact.subject)]
    return others[0] if others else None


def labelled(memory: Memory) -> list[tuple[str, str]]:
    """(claim, expected verdict) pairs built from the corpus at HEAD."""
    blocks = memory.list(at="HEAD")
    ids: dict[str, list[str]] = {}
    for block in blocks:
        ids.setdefault(block.id.split("-", 1)[0], []).append(block.id)
    facts = [b for b in blocks if b.type == "fact" and b.status == "active" and not b.valid_to and b.obj]
    # Keys the corpus gives two open values on purpose (its planted conflicts) are disputed: left out.
    # So are facts another block contradicts by an explicit edge.
    keys = [(f.subject, f.predicate) for f in facts]
    disputed = {t for b in blocks if b.status == "active" for t in b.targets("contradicts")}
    facts = [f for f in facts if keys.count((f.subject, f.predicate)) == 1 and f.id not in disputed]
    claims: list[tuple[str, str]] = []
    for fact in facts:
        other = _other_value(fact, ids)
        if other is None:
            continue
        said = f"{fact.subject} {(fact.predicate or '').replace('_', ' ')} is"
        claims += [(f"{said} {fact.obj}", "supported"), (f"{said} {other}", "contradicted")]
    return claims[:44] + [(claim, "unknown") for claim in UNKNOWN]


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Memory:
    return Memory(corpus.build_repo(tmp_path_factory.mktemp("verify") / "corpus", 300, seed=3, commits=3))


def test_verify_on_the_labelled_set(memory: Memory) -> None:
    claims = labelled(memory)
    assert len(claims) >= 40
    said = {claim: recall(memory, claim, mode="verify").verdict for claim, _ in claims}
    wrong = [(claim, expected, said[claim]) for claim, expected in claims if said[claim] != expected]
    assert 1 - len(wrong) / len(claims) >= 0.9, wrong
    assert not [w for w in wrong if w[1] == "contradicted" and w[2] == "supported"], wrong


def test_recall_ask_and_mcp_give_one_verdict_and_graph_contradict_is_mm_check(memory: Memory) -> None:
    """The one judgement: `recall --mode verify`, `mm ask "verify that …"` and MCP recall give the same
    verdict on every labelled claim; MCP `graph contradict` lists exactly the pairs `mm check` reports."""
    from mindmem.agents.ask import ask
    from mindmem.agents.dispatch import Dispatcher
    from mindmem.checks import contradictions
    from mindmem.checks.sources import context_for

    repo = str(memory.git.workdir)
    env = {**os.environ, "MM_HOME": str(memory.git.workdir.parent / "no-user-config")}
    env.pop("MM_MODEL", None)
    mcp = Dispatcher(repo, "agent", env=env)
    for claim, _ in labelled(memory):
        verdict = recall(memory, claim, mode="verify").verdict
        asked = ask(repo, f"verify that {claim}", env=env)
        assert (asked.call.tool, asked.call.arguments.get("mode")) == ("recall", "verify"), claim
        assert asked.result["verdict"] == mcp.recall(claim, mode="verify")["verdict"] == verdict, claim
    checked = sorted(sorted(f.blocks) for f in contradictions.conflicts(context_for(memory)))
    assert mcp.graph("contradict")["pairs"] == checked and checked
