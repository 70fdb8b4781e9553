"""A local model as the router behind `mm ask`, and as the writer of its answer, held to JSON schemas.

The model sees the seven dispatchers and the question, and replies with one call as
schema-held JSON (the llama-cpp backend's grammar); the call is then checked like any
agent input, so a bad reply is a clear error, never a wrong write. After the call, the
model answers from the evidence and may cite only block IDs that the evidence holds.
It can also split a question into sub-queries for recall (`mm recall --reformulate`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from mindmem.agents.router import Call
from mindmem.errors import BadInput
from mindmem.vocabulary import CORE_ACTIONS, DISPATCHERS, GRAPH_ACTIONS, PHASES, PROPOSAL_RE, RECALL_MODES

MODES = {
    "recall": RECALL_MODES,
    "staged_change": PHASES,
    "graph": GRAPH_ACTIONS,
    "core": CORE_ACTIONS,
    "memory_verify": ("none",),
    "kernels": ("none",),
    "compiled_truth": ("none",),
}
BLOCK_TYPES = ("", "decision", "fact", "task", "incident", "note", "entity")
CALL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "tool": {"enum": list(DISPATCHERS)},
        "mode": {"enum": sorted({m for modes in MODES.values() for m in modes})},
        "query": {"type": "string", "maxLength": 160},
        "id": {"type": "string", "maxLength": 40},
        "subject": {"type": "string", "maxLength": 60},
        "type": {"enum": list(BLOCK_TYPES)},
    },
    "required": ["tool", "mode", "query", "id", "subject", "type"],
    "additionalProperties": False,
}
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "maxLength": 600},
        "cited": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 8},
    },
    "required": ["answer", "cited"],
    "additionalProperties": False,
}
QUERIES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"queries": {"type": "array", "items": {"type": "string", "maxLength": 120}, "maxItems": 4}},
    "required": ["queries"],
    "additionalProperties": False,
}
# The same system prompt opens every call, so llama.cpp reuses its evaluated prefix.
SYSTEM = """\
You route questions about a team's project memory to exactly one tool call. Reply with JSON only.
Tools and modes:
- recall: search memory. mode similar (find), verify (is a claim true?), intent (who/when/what was
  decided/status), diagnose (why did something fail?), bundle (everything about a topic). query = the search text.
- staged_change: change memory. mode propose (remember something; query = what), approve/reject (id = the
  proposal P-YYYYMMDD-xxxxxx), rollback (id = a proposal or block ID).
- graph: mode expand (id = a block ID: what is linked to it), prefetch (subject: context to load before
  work), contradict (conflicting blocks).
- core: mode status (overview), get (id = a block ID), list (type = decision|fact|task|incident|note|entity).
- compiled_truth: mode none; subject = an entity ID like PRJ-billing: what is currently true about it.
- memory_verify: mode none; is memory intact and signed?  - kernels: mode none; the settings in force.
Fill unused fields with "".
Examples:
Q: why did the nightly export time out?
A: {"tool":"recall","mode":"diagnose","query":"nightly export timed out","id":"","subject":"","type":""}
Q: show D-20261125-7f3a9c
A: {"tool":"core","mode":"get","query":"","id":"D-20261125-7f3a9c","subject":"","type":""}
Q: what do we know about PRJ-billing?
A: {"tool":"compiled_truth","mode":"none","query":"","id":"","subject":"PRJ-billing","type":""}
"""


class ModelRouter:
    """Routing and answering with a local GGUF model (the llama-cpp backend's loader, template and grammar)."""

    def __init__(
        self,
        model: str | None = None,
        *,
        env: Mapping[str, str] | None = None,
        examples: Sequence[tuple[str, Call]] = (),
    ) -> None:
        from mindmem.extract.llama import LlamaExtractor

        # More worked examples (say from `mm dataset dispatch --split train`) in the shared system prompt.
        self.system = SYSTEM + "".join(
            f"Q: {q}\nA: {json.dumps(to_flat(c), separators=(',', ':'))}\n" for q, c in examples
        )
        # Room for the longest call the schema admits, even one character per token.
        self.llm = LlamaExtractor(model, max_tokens=640, chunk_tokens=512, env=env)

    def _ask(self, user: str, schema: dict[str, Any]) -> Any:
        raw = self.llm.complete_json(
            [{"role": "system", "content": self.system}, {"role": "user", "content": user}], schema
        )
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BadInput(f"the model's reply is not JSON ({exc.msg}): {raw[:80]!r}") from None

    def route(self, question: str) -> Call:
        """The model's call for `question`; a reply that is not a valid call is a BadInput."""
        return to_call(self._ask(f"Q: {question}", CALL_SCHEMA), question)

    def route_or_none(self, question: str) -> Call | None:
        try:
            return self.route(question)
        except BadInput:
            return None

    def answer(self, question: str, result: Mapping[str, Any], allowed: set[str]) -> tuple[str, list[str]]:
        """A short answer from the evidence, citing only IDs the evidence holds."""
        evidence = json.dumps(result, ensure_ascii=False)[:6000]
        data = self._ask(
            f"Answer from this evidence only, in one or two sentences, and cite the block IDs you used.\n"
            f"Evidence: {evidence}\nQuestion: {question}",
            ANSWER_SCHEMA,
        )
        cited = [i for i in data["cited"] if i in allowed]
        return data["answer"].strip(), cited

    def queries(self, question: str) -> list[str]:
        """Sub-queries for recall: the parts of a multi-part question, reworded as search text."""
        data = self._ask(f"Split into at most 4 short search queries, one per part:\n{question}", QUERIES_SCHEMA)
        parts = [q.strip() for q in data["queries"] if q.strip()]
        return parts or [question]


def to_flat(call: Call) -> dict[str, str]:
    """A dispatcher call in the flat shape the model writes (the inverse of `to_call`)."""
    args = call.arguments
    mode = next((str(args[k]) for k in ("mode", "phase", "action") if k in args), "none")
    edits = args.get("edits") or [{}]
    query = args.get("query") or edits[0].get("title") or ""
    block_id = args.get("id") or args.get("proposal") or args.get("target") or ""
    block_type = args.get("type") or ""
    return {"tool": call.tool, "mode": mode, "query": query, "id": block_id, "subject": args.get("subject") or "",
            "type": block_type}  # fmt: skip


def to_call(data: Mapping[str, Any], question: str) -> Call:
    """Check a model's flat reply and turn it into the dispatcher call; BadInput when it does not make one."""
    tool, mode = data.get("tool"), data.get("mode")
    if tool not in MODES or mode not in MODES[tool]:
        raise BadInput(f"the model's call is not valid: tool {tool!r} has no mode {mode!r}")
    query = str(data.get("query") or "").strip() or question
    block_id, subject = str(data.get("id") or "").strip(), str(data.get("subject") or "").strip()
    if tool == "recall":
        return Call(tool, {"query": query, "mode": mode})
    if tool == "staged_change":
        if mode == "propose":
            edit = {"action": "add", "type": "note", "title": query[:200]}
            return Call(tool, {"phase": mode, "rationale": question, "edits": [edit]})
        key = "proposal" if mode in ("approve", "reject") else "target"
        if not block_id or (key == "proposal" and not PROPOSAL_RE.fullmatch(block_id)):
            raise BadInput(f"the model's call is not valid: {mode} needs a proposal or block ID, got {block_id!r}")
        return Call(tool, {"phase": mode, key: block_id, "rationale": question})
    if tool in ("graph", "core") and mode in ("expand", "get"):
        if not re.fullmatch(r"[A-Z]+-[\w-]+", block_id):
            raise BadInput(f"the model's call is not valid: {tool} {mode} needs a block ID, got {block_id!r}")
        return Call(tool, {"action": mode, "id": block_id})
    if tool == "graph":
        return Call(tool, {"action": mode, **({"subject": subject or query} if mode == "prefetch" else {})})
    if tool == "core":
        block_type = data.get("type") or None
        return Call(tool, {"action": mode, **({"type": block_type} if mode == "list" and block_type else {})})
    if tool == "compiled_truth":
        return Call(tool, {"subject": subject or query})
    return Call(tool, {})
