"""Intent mode: classify a question (decision, task, who, when, incident, fact) and search those types."""

from __future__ import annotations

import re
from dataclasses import replace

from mindmem.search.ranked import Ask, search
from mindmem.search.results import Intent, Search
from mindmem.store.blocks import TASK_STATUSES, TYPES

_OPEN = ("todo", "doing", "blocked")
_STATUS_WORDS = tuple(
    (re.compile(pattern, re.IGNORECASE), statuses)
    for pattern, statuses in (
        (r"\b(?:open|pending|remaining|outstanding|unfinished|to-?do)\b", _OPEN),
        (r"\b(?:in progress|doing|working on|started)\b", ("doing",)),
        (r"\bblocked\b", ("blocked",)),
        (r"\b(?:done|finished|completed|closed)\b", ("done",)),
        (r"\b(?:cancell?ed|dropped|abandoned)\b", ("canceled",)),
    )
)

# (label, pattern, types searched). The label with most matches wins; ties go to the earlier one.
INTENTS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE), types)
    for label, pattern, types in (
        (
            "incident",
            r"\b(?:incidents?|outages?|broke|broken|fail\w*|errors?|crash\w*|down|bugs?|regressions?|"
            r"postmortem|root cause|paged?|alerts?)\b",
            ("incident", "task"),
        ),
        (
            "task",
            r"\b(?:tasks?|todo|to-do|status|progress|blocked|done|finished|working on|backlog|assigned|"
            r"next steps?|remaining|open items?)\b",
            ("task",),
        ),
        (
            "decision",
            r"\b(?:decid\w*|decisions?|chose|choose|chosen|why did we|policy|polic\w+|agreed?|picked?|"
            r"should we|approach|rule|allowed)\b",
            ("decision",),
        ),
        (
            "who",
            r"\b(?:who|whom|whose|owners?|owns|responsible|maintain\w*|people|person|team)\b",
            ("entity", "decision", "task"),
        ),
        (
            "when",
            r"\b(?:when|dates?|since|until|deadline|due|expir\w*|how long|what time|timeline)\b",
            ("decision", "fact", "incident", "task"),
        ),
        (
            "fact",
            r"\b(?:what is|what's|which|how many|how much|versions?|config\w*|where|value)\b",
            ("fact", "note", "entity"),
        ),
    )
)


def classify(query: str) -> Intent:
    """The kind of question, by keyword rules; `general` searches every type."""
    best: Intent | None = None
    for label, pattern, types in INTENTS:
        matched = tuple(dict.fromkeys(m.group(0).lower() for m in pattern.finditer(query)))
        if matched and (best is None or len(matched) > len(best.matched)):
            best = Intent(label, types, matched)
    return best or Intent("general", TYPES, ())


def asked_statuses(query: str) -> tuple[str, ...]:
    """The task statuses a question names ("open tasks": todo, doing, blocked), in TASK_STATUSES order."""
    wanted: set[str] = set()
    for pattern, statuses in _STATUS_WORDS:
        if pattern.search(query):
            wanted.update(statuses)
    return tuple(s for s in TASK_STATUSES if s in wanted)


def intent(ask: Ask, query: str) -> Search:
    """Search the types the question is about; each part of a multi-part question gets its own intent."""
    found = classify(query)

    def asked(text: str) -> Ask:
        # An explicit --type wins over the guess.
        return ask if ask.types is not None else replace(ask, types=classify(text).types)

    hits, parts = search(asked(query), query, asked)
    wanted = asked_statuses(query) if found.label == "task" and ask.types in (None, ("task",)) else ()
    if wanted:
        # "what tasks are open": the state is the question; matching words only order the answer.
        listed = ask.view.listing(("task",), wanted, limit=ask.limit)
        hits = [h for h in hits if h.status in wanted]
        hits += [ask.hit(d) for d in listed if d.id not in {h.id for h in hits}]
    if not hits and ask.types is None and found.types != TYPES:
        hits, parts = search(ask, query)
        found = replace(found, widened=True)
    if ask.types is not None:
        found = replace(found, types=ask.types)
    parts_found = tuple(classify(p) for p in parts)
    return Search("intent", query, ask.commit, tuple(hits[: ask.limit]), parts, found, parts_found)
