"""`mm ask`: a question in, one dispatcher call made, an answer that cites block IDs out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mindmem.dispatch import Dispatcher
from mindmem.router import Call, route

AGENT = "ask"  # `mm ask` acts like an agent: it may read and propose, a person approves
MAX_CITED = 10


@dataclass(frozen=True)
class Answer:
    question: str
    call: Call
    result: dict[str, Any]
    cited: tuple[dict[str, str], ...]
    commit: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "call": self.call.to_json(),
            "commit": self.commit,
            "cited": list(self.cited),
            "result": self.result,
        }


def ask(repo: str | None, question: str, *, call: Call | None = None) -> Answer:
    """Route the question (by rules unless `call` is given), make the call, and collect what it cites."""
    call = call or route(question)
    dispatcher = Dispatcher(repo, AGENT)
    result = getattr(dispatcher, call.tool)(**call.arguments)
    return Answer(question, call, result, tuple(cited(result)), _commit(result))


def cited(result: Any) -> Iterator[dict[str, str]]:
    """The blocks a result names (anything with an id and a title), first mention first, at most MAX_CITED."""
    seen: set[str] = set()
    stack = [result]
    while stack and len(seen) < MAX_CITED:
        item = stack.pop(0)
        if isinstance(item, dict):
            block_id, title = item.get("id"), item.get("title")
            if isinstance(block_id, str) and isinstance(title, str) and block_id not in seen:
                seen.add(block_id)
                yield {"id": block_id, "title": title, "type": str(item.get("type") or "")}
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _commit(result: dict[str, Any]) -> str | None:
    for key in ("commit", "indexed"):
        if isinstance(result.get(key), str):
            return result[key]
    return None
