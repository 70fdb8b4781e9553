"""`mm ask`: a question in, one dispatcher call made, an answer that cites block IDs out."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mindmem.agents.dataset import few_shot
from mindmem.agents.dispatch import Dispatcher
from mindmem.agents.router import Call, route, ruled
from mindmem.store.config import user_config

AGENT = "ask"  # `mm ask` acts like an agent: it may read and propose, a person approves
MAX_CITED = 10


@dataclass(frozen=True)
class Answer:
    question: str
    call: Call
    result: dict[str, Any]
    cited: tuple[dict[str, str], ...]
    commit: str | None
    router: str = "rules"
    text: str | None = None  # the model's answer from the evidence, when a model routed

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "router": self.router,
            "call": self.call.to_json(),
            "commit": self.commit,
            "answer": self.text,
            "cited": list(self.cited),
            "result": self.result,
        }


def ask(repo: str | None, question: str, *, model: str | None = None, env: Mapping[str, str] | None = None) -> Answer:
    """Route the question, make the call, collect what it cites.

    The rule router picks the call: on plain questions written by hand it picks the right tool
    more often than the small local models measured (docs/benchmarks.md, routing). Given `model`
    explicitly, the model is asked for the call when no rule matches (`pick_call`), as grammar-held
    JSON with worked examples from the dataset's train split in its prompt. With
    any model (`model`, `$MM_MODEL` or the user config) the model also answers from the evidence,
    citing block IDs.
    """
    env = os.environ if env is None else env
    dispatcher = Dispatcher(repo, AGENT, env=env)
    call, by = route(question), "rules"
    if not (model or env.get("MM_MODEL") or user_config(env).get("model")):
        result = getattr(dispatcher, call.tool)(**call.arguments)
        return Answer(question, call, result, tuple(cited(result)), _commit(result))
    from mindmem.agents.model_router import ModelRouter

    router = ModelRouter(model, env=env, examples=few_shot() if model else ())
    if model:
        call, by = pick_call(question, router.route_or_none)
    result = getattr(dispatcher, call.tool)(**call.arguments)
    found = tuple(cited(result))
    text, ids = router.answer(question, result, {item["id"] for item in found})
    chosen = tuple(item for item in found if item["id"] in ids) or found
    return Answer(question, call, result, chosen, _commit(result), by, text)


def pick_call(question: str, by_model: Callable[[str], Call | None]) -> tuple[Call, str]:
    """A rule's call when one matches; else the model's, when it makes a valid one; else the rules'
    fallback (a search for similar blocks). Measured best on questions never tuned on
    (docs/benchmarks.md, routing): the rules are right far more often when they match, the model
    more often where they have no rule."""
    sure = ruled(question)
    if sure is not None:
        return sure, "rules"
    made = by_model(question)
    return (made, "model") if made is not None else (route(question), "rules")


def cited(result: Any) -> Iterator[dict[str, str]]:
    """The blocks a result names (anything with an id and a title), first mention first, at most MAX_CITED,
    each with its status so a superseded or revoked block is never cited as if it still held."""
    seen: set[str] = set()
    stack = [result]
    while stack and len(seen) < MAX_CITED:
        item = stack.pop(0)
        if isinstance(item, dict):
            block_id, title = item.get("id"), item.get("title")
            if isinstance(block_id, str) and isinstance(title, str) and block_id not in seen:
                seen.add(block_id)
                yield {
                    "id": block_id,
                    "title": title,
                    "type": str(item.get("type") or ""),
                    "status": str(item.get("status") or ""),
                }
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _commit(result: dict[str, Any]) -> str | None:
    for key in ("commit", "indexed"):
        if isinstance(result.get(key), str):
            return result[key]
    return None
