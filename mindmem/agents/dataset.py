"""`mm dataset dispatch`: (prompt, expected call) pairs over the seven dispatchers, for tuning local models.

Deterministic: the same count and seed give the same lines. IDs, subjects and topics come
from a small generated memory (seeded), so prompts name things that look real. Every
pair is marked `train` or `test`; the test split holds out whole phrasings (templates),
so a score on it measures how well a router handles wording it never saw.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mindmem.agents.router import Call

PEOPLE = ["alice", "bob", "priya", "chen", "dana", "omar", "lena", "marco"]
PROJECTS = ["billing", "search", "auth", "checkout", "payments", "analytics", "mobile-app", "data-platform"]
TOOLS = ["postgres", "kafka", "redis", "kubernetes", "terraform", "grafana", "s3", "elasticsearch"]
TOPICS = [
    "the nightly export", "token refresh", "the deploy pipeline", "database failover", "the search reindex",
    "rate limiting", "the invoice PDF job", "cache invalidation", "the mobile release", "log retention",
]  # fmt: skip
CLAIMS = [
    "we store billing events in {tool}", "the export job runs on {tool}", "{person} owns the {project} service",
    "we deploy {project} on Fridays", "the {project} API needs a token", "{tool} is our queue",
]  # fmt: skip
HOLDOUT_EVERY = 4  # one template in four is held out for the test split
# Examples in a routing model's prompt: on a sample of 31 plain questions, 24 lifted the 1.5B from 61% to
# 84% right tool (docs/benchmarks.md, routing).
FEW_SHOT = 24
MODE_KEYS = ("mode", "phase", "action")

# (tool, arguments template, phrasings). Slots: {topic} {id} {pid} {subject} {claim} {type} {status} {person}
TEMPLATES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("recall", {"mode": "similar"}, [
        "{topic}", "what do we have on {topic}", "search memory for {topic}", "find notes about {topic}",
        "anything on {topic}?", "look up {topic}", "{topic} details", "notes mentioning {topic}",
    ]),
    ("recall", {"mode": "verify"}, [
        "is it true that {claim}?", "verify that {claim}", "check whether {claim}", "confirm that {claim}",
        "is it the case that {claim}?", "true or false: {claim}", "can you check if {claim}",
        "verify: {claim}",
    ]),
    ("recall", {"mode": "intent"}, [
        "who owns {topic}?", "when did we change {topic}?", "what did we decide about {topic}?",
        "what is the status of {topic}?", "who is responsible for {topic}?", "which decision covers {topic}?",
        "when was {topic} last touched?", "status of {topic}",
    ]),
    ("recall", {"mode": "diagnose"}, [
        "why did {topic} fail?", "what caused {topic} to break?", "root cause of {topic} timing out",
        "diagnose {topic}", "why does {topic} keep crashing?", "{topic} is failing again, why?",
        "why is {topic} timing out?", "what broke {topic}?",
    ]),
    ("recall", {"mode": "bundle"}, [
        "brief me on {topic}", "everything about {topic}", "summarize what we know on {topic}",
        "give me all evidence about {topic}", "timeline of {topic}", "history of {topic}",
        "summarise {topic} for me", "all evidence on {topic}",
    ]),
    ("staged_change", {"phase": "propose"}, [
        "remember that {claim}", "record that {claim}", "note down that {claim}", "propose that {claim}",
        "keep in mind that {claim}", "log that {claim}", "please remember {claim}", "save that {claim}",
    ]),
    ("staged_change", {"phase": "approve"}, [
        "approve {pid}", "please approve {pid}", "merge {pid}", "sign off on {pid}", "accept {pid}",
        "approve proposal {pid}", "{pid} looks good, approve it", "go ahead and approve {pid}",
    ]),
    ("staged_change", {"phase": "reject"}, [
        "reject {pid}", "decline {pid}", "reject proposal {pid}, it duplicates another",
        "please reject {pid}", "refuse {pid}", "{pid} is wrong, reject it", "decline proposal {pid}",
        "reject {pid} please",
    ]),
    ("staged_change", {"phase": "rollback"}, [
        "roll back {pid}", "revert {pid}", "undo {pid}", "rollback {id}", "revert {id}",
        "please roll back {pid}", "undo the change {pid}", "roll back {id}",
    ]),
    ("graph", {"action": "expand"}, [
        "what is related to {id}?", "neighbours of {id}", "what is linked to {id}", "what depends on {id}",
        "show what is connected to {id}", "what cites {id}?", "related to {id}", "things around {id}",
    ]),
    ("graph", {"action": "prefetch"}, [
        "before I start on {subject}, load the context", "prefetch {subject}", "prepare me for {subject}",
        "load the context for {subject}", "get me up to speed on {subject} before we work",
        "before we work on {subject}, what should I load?", "prefetch context about {subject}",
        "prepare me to work on {subject}",
    ]),
    ("graph", {"action": "contradict"}, [
        "any contradictions in memory?", "what conflicts?", "show conflicting decisions",
        "are there inconsistencies?", "which blocks contradict each other?", "list contradictions",
        "do any decisions disagree?", "find conflicting facts",
    ]),
    ("memory_verify", {}, [
        "is memory intact?", "verify memory", "audit memory signatures", "is the memory sound?",
        "check memory integrity", "has memory been tampered with?", "is memory valid?", "verify the memory repo",
    ]),
    ("core", {"action": "status"}, [
        "memory status", "status of the memory", "overview of the repo", "summary of the memory",
        "status", "memory status please", "give me an overview of the memory", "summary of the repo",
    ]),
    ("core", {"action": "get"}, [
        "show {id}", "get {id}", "open {id}", "print {id}", "display {id}", "read {id}",
        "show me {id}", "get block {id}",
    ]),
    ("core", {"action": "list"}, [
        "list {status} {type}s", "how many {type}s are {status}?", "list all {type}s", "list {type}s",
        "count {status} {type}s", "list the {status} {type}s", "how many {type}s do we have?",
        "all the {status} {type}s",
    ]),
    ("kernels", {}, [
        "what are the recall settings?", "show the config", "what mode is governance in?",
        "which kernels are in force?", "show settings", "what is the governance mode?",
        "recall configuration please", "what boosts does recall use?",
    ]),
    ("compiled_truth", {}, [
        "what do we know about {subject}?", "current truth about {subject}", "latest state of {subject}",
        "compiled view of {subject}", "what do we currently know about {subject}?",
        "current state of {subject}", "latest view on {subject}", "compiled truth for {subject}",
    ]),
]  # fmt: skip


@dataclass(frozen=True)
class Pair:
    prompt: str
    call: Call
    split: str
    template: str

    def to_json(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "call": self.call.to_json(), "split": self.split, "template": self.template}


def dispatch_pairs(count: int, seed: int = 0) -> Iterator[Pair]:
    """`count` pairs, cycling through every dispatcher and mode so all are covered evenly."""
    rng = random.Random(seed)
    pool = _pool(rng)
    for n in range(count):
        tool, fixed, phrasings = TEMPLATES[n % len(TEMPLATES)]
        index = rng.randrange(len(phrasings))
        slots = _slots(rng, pool)
        prompt = phrasings[index].format(**slots)
        template = f"{tool}:{_mode(fixed)}:{index}"
        yield Pair(prompt, Call(tool, _arguments(tool, fixed, slots, prompt)), _split(template), template)


def few_shot(count: int = FEW_SHOT, seed: int = 5) -> list[tuple[str, Call]]:
    """`count` train-split (question, call) pairs for a model's prompt: one per tool and mode first,
    so that a few examples cover every call."""
    seen: set[tuple[str, str]] = set()
    first: list[tuple[str, Call]] = []
    rest: list[tuple[str, Call]] = []
    for pair in dispatch_pairs(count * 40, seed):
        if pair.split != "train":
            continue
        key = (pair.call.tool, next((str(pair.call.arguments[k]) for k in MODE_KEYS if k in pair.call.arguments), "-"))
        (rest if key in seen else first).append((pair.prompt, pair.call))
        seen.add(key)
    return (first + rest)[:count]


def _pool(rng: random.Random) -> dict[str, list[str]]:
    """The IDs of a small generated memory: blocks of every type and open proposals."""

    def ids(prefix: str, n: int) -> list[str]:
        return [
            f"{prefix}-2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-{rng.getrandbits(24):06x}" for _ in range(n)
        ]

    return {
        "blocks": ids("D", 12) + ids("F", 12) + ids("T", 8) + ids("I", 6) + ids("N", 6),
        "proposals": ids("P", 10),
        "subjects": [f"PRJ-{p}" for p in PROJECTS] + [f"TOOL-{t}" for t in TOOLS],
    }


def _slots(rng: random.Random, pool: dict[str, list[str]]) -> dict[str, str]:
    person, project, tool = rng.choice(PEOPLE), rng.choice(PROJECTS), rng.choice(TOOLS)
    block_type, status = rng.choice([("decision", "active"), ("task", "todo"), ("incident", "active"),
                                     ("fact", "active"), ("task", "done"), ("decision", "superseded")])  # fmt: skip
    return {
        "topic": rng.choice(TOPICS),
        "id": rng.choice(pool["blocks"]),
        "pid": rng.choice(pool["proposals"]),
        "subject": rng.choice(pool["subjects"]),
        "claim": rng.choice(CLAIMS).format(person=person.title(), project=project, tool=tool.title()),
        "person": person,
        "type": block_type,
        "status": status,
    }


def _arguments(tool: str, fixed: dict[str, Any], slots: dict[str, str], prompt: str) -> dict[str, Any]:
    """The call a perfect router makes: the fixed mode/phase/action plus what the prompt names."""
    args = dict(fixed)
    if tool == "recall":
        args["query"] = prompt
    elif tool == "staged_change":
        args["rationale"] = prompt
        if fixed["phase"] in ("approve", "reject"):
            args["proposal"] = slots["pid"]
        elif fixed["phase"] == "rollback":
            args["target"] = slots["pid"] if slots["pid"] in prompt else slots["id"]
    elif tool == "graph" and fixed["action"] == "expand":
        args["id"] = slots["id"]
    elif (tool == "graph" and fixed["action"] == "prefetch") or tool == "compiled_truth":
        args["subject"] = slots["subject"]
    elif tool == "core" and fixed["action"] == "get":
        args["id"] = slots["id"]
    elif tool == "core" and fixed["action"] == "list":
        args["type"] = slots["type"]
        if "{status}" in prompt or slots["status"] in prompt.split():
            args["status"] = slots["status"]
    return args


def _mode(fixed: dict[str, Any]) -> str:
    return str(fixed.get("mode") or fixed.get("phase") or fixed.get("action") or "-")


def _split(template: str) -> str:
    digest = int(hashlib.sha256(template.encode()).hexdigest(), 16)
    return "test" if digest % HOLDOUT_EVERY == 0 else "train"
