"""Natural language to one dispatcher call: the rule-based router behind `mm ask`.

Pure. `route("why did the export time out?")` gives
`Call("recall", {"query": …, "mode": "diagnose"})`. The calls are exactly the seven
MCP dispatchers with the same arguments, so a model trained on `mm dataset dispatch`
and this router speak the same language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mindmem.store.blocks import ID_IN_TEXT_RE

PROPOSAL_RE = re.compile(r"\bP-\d{8}-[0-9a-f]{6}\b")
_ENTITY_RE = re.compile(r"\b(?:PER|PRJ|TOOL|ORG)-[a-z0-9]+(?:-[a-z0-9]+)*\b")
_TYPES = {
    "decision": r"decisions?|decided",
    "task": r"tasks?|todos?|to-dos?|action items?",
    "incident": r"incidents?|outages?",
    "fact": r"facts?",
    "note": r"notes?",
    "entity": r"entit(?:y|ies)|people|persons?|projects?|tools?",
}
_STATUSES = ("active", "superseded", "revoked", "todo", "doing", "blocked", "done", "canceled")


@dataclass(frozen=True)
class Call:
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"tool": self.tool, "arguments": self.arguments}


def _has(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.I) is not None


# Plain wordings, written against questions people ask rather than the dataset's templates.
_REJECT = r"\b(reject|decline|refuse|turn (it )?down|throw (it )?out|don'?t merge|do not merge)\b"
_APPROVE = r"\b(approve|accept|merge|sign off|ship it|lgtm)\b"
_ROLLBACK = r"\b(roll ?back|revert|undo|take back)\b"
_PROPOSE = (
    r"^(please )?(remember|record|note down|make a note|write down|jot down|save (this|that)|propose|add an? |"
    r"log (a|an|that)\b|keep in mind)|\b(put|save|store|add) (that|this|it) (in|to|into) (the )?memory\b"
)
_VERIFY_MEMORY = (
    r"\b(verify|audit|integrity|tamper\w*|alter\w*|signatures?|checks?)\b.*\bmemory\b|"
    r"\bmemory\b.*\b(sound|valid|intact|ok|tamper\w*|alter\w*|checks?|integrity|signatures?)\b"
)
_KERNELS = (
    r"\b(settings|config(uration)?|kernels?|what mode|governance mode|boosts?)\b|"
    r"\bagents?\b.*\b(allowed|permitted)\b|\b(allowed|permitted)\b.*\bphases?\b|\bwhat can (this|the|an) agent\b"
)
_CONTRADICT = r"\b(contradict\w*|conflict\w*|inconsisten\w*|disagree\w*|clash\w*)\b"
_PREFETCH = (
    r"\b(before (i|we) (start|work|touch)|before touching|prefetch|load (the )?context|prepare me|"
    r"get me up to speed|about to (work|start)|need to know before)\b"
)
_EXPAND = r"\b(related|neighbou?rs?|linked|connected|around|depends? on|hangs? off|points? (to|at)|what cites)\b"
_GET = r"^(show|get|open|print|display|read|pull up|fetch|let me (read|see))\b|\bwhat does \S+ say\b"
_LIST = (
    r"\b(list|enumerate|how many|count|every|all (the )?(open |active )?\w+s|what \w+s do we have|"
    r"which \w+s (are|is))\b"
)
_STATUS = (
    r"\b(status|overview|summary) of (the )?(memory|repo)\b|^(memory )?status\??$|\boverview of\b.*\bmemory\b|"
    r"\bhow (many|big)\b.*\b(blocks?|memory|proposals?)\b|\bmemory (stats|statistics|size)\b|"
    r"\bwhat'?s in (the )?memory\b"
)
_TRUTH = (
    r"\b(current|latest|compiled) (truth|state|view)\b|\bwhat do we (currently )?know about\b|"
    r"\bcurrently true\b|\bwhere do(es)? things stand\b"
)
_CHECK = (
    r"^(is it true|is it the case|verify|check( whether| if)?|confirm|true or false|am i right|are we sure|"
    r"can you (double-?)?check|double-?check)\b|\bis that (right|true)\b|\b(true|or not|correct)\??$|"
    r"^(is|are|does|do|did|was|were|has|have|can)\b.*\b(really|actually|still)\b"
)
_DIAGNOSE = (
    r"^why\b|\b(root cause|what caused|diagnose|broke|failing|fails|crash\w*|timed? ?out|what went wrong|"
    r"what'?s behind|what is behind|causes?|how come|keeps? \w+ing|hangs?|so slow|late)\b|^explain\b"
)
_BUNDLE = (
    r"\b(everything (about|on)|all (the )?evidence|evidence|brief me|summari[sz]e|timeline of|history of|"
    r"all we know|whole story|complete picture|full picture|put together)\b"
)
_INTENT = (
    r"^(who|when|what did we decide|which decision|what is the status|status of|which team)\b|"
    r"\bwhat (was|were|has been) decided\b|\bwhat did we (settle|agree|land|choose|pick)\b|"
    r"\bresponsible for\b|\bwhat'?s the plan\b"
)


def route(question: str) -> Call:
    """The one dispatcher call that answers `question` best, by rules (first matching rule wins)."""
    q = " ".join(question.split())
    ids = [m.group(0) for m in ID_IN_TEXT_RE.finditer(q)]
    proposal = PROPOSAL_RE.search(q)
    entity = _ENTITY_RE.search(q)
    subject = entity.group(0) if entity else _subject_phrase(q)

    if proposal and _has(_REJECT, q):
        return Call("staged_change", {"phase": "reject", "proposal": proposal.group(0), "rationale": q})
    if proposal and _has(_APPROVE, q) and not _has(_ROLLBACK, q):
        return Call("staged_change", {"phase": "approve", "proposal": proposal.group(0), "rationale": q})
    if _has(_ROLLBACK, q) and (proposal or ids):
        target = proposal.group(0) if proposal else ids[0]
        return Call("staged_change", {"phase": "rollback", "target": target, "rationale": q})
    if _has(_PROPOSE, q):
        return Call("staged_change", {"phase": "propose", "rationale": q, "edits": [_edit_from(q)]})
    if _has(_VERIFY_MEMORY, q):
        return Call("memory_verify", {})
    if _has(_KERNELS, q):
        return Call("kernels", {})
    if _has(_CONTRADICT, q) and not _has(r"\bis it true\b", q):
        return Call("graph", {"action": "contradict"})
    if _has(_PREFETCH, q):
        return Call("graph", {"action": "prefetch", "subject": subject or q})
    if ids and _has(_EXPAND, q):
        return Call("graph", {"action": "expand", "id": ids[0], "depth": 2 if _has(r"\b(two|2) hops?\b", q) else 1})
    if ids and _has(_GET, q):
        return Call("core", {"action": "get", "id": ids[0]})
    if _has(_LIST, q) and _type_in(q):
        return Call("core", _list_arguments(q))
    if _has(_STATUS, q):
        return Call("core", {"action": "status"})
    if _has(_TRUTH, q) and subject:
        return Call("compiled_truth", {"subject": subject})
    return _recall(q)


def _recall(q: str) -> Call:
    if _has(_CHECK, q):
        return Call("recall", {"query": _strip_lead(q), "mode": "verify"})
    if _has(_DIAGNOSE, q):
        return Call("recall", {"query": q, "mode": "diagnose"})
    if _has(_BUNDLE, q):
        return Call("recall", {"query": q, "mode": "bundle"})
    if _has(_INTENT, q):
        return Call("recall", {"query": q, "mode": "intent"})
    return Call("recall", {"query": q, "mode": "similar"})


def _list_arguments(q: str) -> dict[str, Any]:
    arguments: dict[str, Any] = {"action": "list", "type": _type_in(q)}
    status = next((s for s in _STATUSES if _has(rf"\b{s}\b", q)), None)
    if status:
        arguments["status"] = status
    if _has(r"\bopen\b", q) and "status" not in arguments and arguments["type"] == "task":
        arguments["status"] = "todo"
    return arguments


def _type_in(q: str) -> str | None:
    return next((t for t, pattern in _TYPES.items() if _has(rf"\b(?:{pattern})\b", q)), None)


def _subject_phrase(q: str) -> str | None:
    m = re.search(
        r"\b(?:about|on|for|of|regarding)\s+(?:the\s+)?([A-Za-z][\w.-]*(?:\s+[A-Za-z][\w.-]*){0,2})\s*\??$", q
    )
    return m.group(1) if m else None


def _strip_lead(q: str) -> str:
    return re.sub(r"^(is it true that|is it the case that|verify( that)?|check( whether| if)?|confirm( that)?)\s+", "",
                  q, flags=re.I).rstrip("?")  # fmt: skip


def _edit_from(q: str) -> dict[str, Any]:
    text = re.sub(r"^(please )?(remember|record|note down|propose|add a \w+|log|save|keep in mind)( that)?[:,]?\s*", "",
                  q, flags=re.I).strip()  # fmt: skip
    kind = (
        "decision"
        if _has(r"\b(decid\w*|we will|we'll|from now on|going forward)\b", q)
        else (
            "task"
            if _has(r"\b(todo|need to|must|should|by (monday|tuesday|wednesday|thursday|friday))\b", q)
            else "fact"
        )
    )
    title = text[:1].upper() + text[1:].rstrip(".")
    return {"action": "add", "type": kind, "title": title[:200] or q[:200]}
