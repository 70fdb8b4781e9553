"""Recall: answer a question from committed memory, through the search index and the typed graph.

Modes (see docs/recall.md):
- similar: BM25F over the index fields, graph neighbours of strong hits boosted, multi-part
  questions split into sub-queries fused by reciprocal rank fusion (`ranked`);
- intent: classify the question (decision, task, who, when, incident, fact) and search those types (`intent`);
- verify: blocks that support or contradict a claim, and a verdict (`claims`);
- diagnose: incidents and tasks matching a problem, with causes, fixes and tests along
  depends_on, derived_from and tested_by edges (`evidence`);
- bundle: an evidence bundle (facts, relations, timeline, entities) for an agent to cite (`evidence`).

Every item names the commit its block was read from, so `git show COMMIT:PATH` reproduces it.
The graph around the hits comes from `graph.build_graph` over just the blocks it needs,
found through the index, so a query never loads the whole memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mindmem.errors import BadInput, BadParameter
from mindmem.search import graph
from mindmem.search import index as idx
from mindmem.search.claims import verify
from mindmem.search.evidence import DIAGNOSE_EDGES, bundle, diagnose
from mindmem.search.intent import asked_statuses, classify, intent
from mindmem.search.ranked import NEIGHBOUR_WEIGHT, POOL, RRF_K, STRONG_HITS, Ask, decompose, fuse, similar
from mindmem.search.results import (
    Bundle,
    Diagnoses,
    Diagnosis,
    Evidence,
    Hit,
    Intent,
    Linked,
    Result,
    Search,
    Verification,
)
from mindmem.store.blocks import TYPES
from mindmem.vocabulary import RECALL_MODES

if TYPE_CHECKING:
    from mindmem.store.memory import Memory

__all__ = [
    "DIAGNOSE_EDGES",
    "HIDDEN_STATUSES",
    "MAX_LIMIT",
    "NEIGHBOUR_WEIGHT",
    "POOL",
    "RRF_K",
    "STRONG_HITS",
    "Ask",
    "Bundle",
    "Diagnoses",
    "Diagnosis",
    "Evidence",
    "Hit",
    "Intent",
    "Linked",
    "Result",
    "Search",
    "Verification",
    "asked_statuses",
    "classify",
    "decompose",
    "fuse",
    "recall",
]

HIDDEN_STATUSES = graph.RETIRED
MAX_LIMIT = 500


def recall(
    memory: Memory,
    query: str,
    *,
    mode: str = "similar",
    limit: int = 10,
    type: str | None = None,
    at: str | None = None,
    all_status: bool = False,
    parts: list[str] | None = None,
    progress: idx.Progress | None = None,
) -> Result:
    """Answer `query` from committed memory (the governed branch, or memory as of `at`: a revision or date).

    `parts` replaces the rule-based split of a multi-part question with given sub-queries; `progress`
    hears (done, total) while the index has to be built or caught up first.
    """
    if mode not in RECALL_MODES:
        raise BadParameter(f"unknown {{mode}} '{mode}'; expected one of {', '.join(RECALL_MODES)}")
    if type is not None and type not in TYPES:
        raise BadInput(f"unknown type '{type}'; expected one of {', '.join(TYPES)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadParameter(f"{{limit}} must be between 1 and {MAX_LIMIT}, not {limit}")
    query = query.strip()
    if not query:
        raise BadInput("the query is empty; say what to look for")
    if len(query) > idx.MAX_QUERY_CHARS:
        raise BadInput(f"query is {len(query)} characters; the limit is {idx.MAX_QUERY_CHARS}")
    hide = () if all_status else HIDDEN_STATUSES
    view = idx.open_view(memory, at, progress)
    ask = Ask(view, limit, (type,) if type else None, hide, tuple(parts) if parts else None)
    if mode == "verify":
        return verify(ask, query)
    if mode == "diagnose":
        return diagnose(ask, query)
    if mode == "bundle":
        return bundle(ask, query)
    if mode == "intent":
        return intent(ask, query)
    return similar(ask, query)
