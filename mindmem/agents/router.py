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
from mindmem.vocabulary import PROPOSAL_IN_TEXT_RE

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


# Plain wordings, written against questions people ask rather than the dataset's templates. Each
# pattern names a way of asking (a verb family, a tag question, a cause word), never one sentence.
_POLITE = r"^(?:(?:ok(?:ay)?|so|hey|please|pls|kindly|can you|could you|would you|let'?s|now)[,:]?\s+)*"
_REJECT = (
    r"\b(reject\w*|declin\w*|refus\w*|turn(ed)? (it )?down|throw (it )?out|(don'?t|do not) merge|no to|"
    r"drop\w*|discard\w*|bin|den(y|ied)|veto\w*|clos(e|ed|ing)|without merg\w*|"
    r"(should|must|can)(not|n'?t| not) go in)\b"
)
_APPROVE = (
    r"\b(approv\w*|accept\w*|merge|sign(ed)? off|ship( it)?|lgtm|good to go|looks good|(is|it'?s) (fine|good|ok)|"
    r"can go in|go ahead|green[- ]?light\w*|thumbs up)\b"
)
_ROLLBACK = (
    r"\b(roll(ed)? ?back|revert\w*|revers\w*|undo|take back|back (it )?out|out of (the )?memory)\b|\broll\b.*\bback\b|"
    r"\btake \S+ out\b"
)
# "…, save that" and "put in memory that …": the request around the words to keep, not in the title.
_SAVE_TAIL = r",? (please )?(save|record|store|note|remember|log|capture) (that|this|it)\.?$"
_SAVE_LEAD = r"write (this|that|it) down|put (that |this |it )?(in|into) (the )?memory"
_PROPOSE = (
    _POLITE + r"(remember|record|note( down)?\b|make a note|write down|jot down|save|store|capture|propose|"
    rf"keep in (mind|memory)|add|create|log (a|an|that)\b|{_SAVE_LEAD})\b(?!.*\?$)|{_SAVE_TAIL}|"
    r"^(new|another) (fact|decision|task|note|incident)\s*:|"
    r"\b(file|open|raise|add|create|log) (a new|one more|an?) (fact|decision|task|note|incident)\b(?!.*\?$)|"
    r"\b(put|save|store|add|write) (that|this|it) (in|to|into) (the )?memory\b|\b(for|to|into) (the )?memory:"
)
_CONTRADICT = (
    r"\b(contradict\w*|conflict\w*|inconsisten\w*|disagree\w*|clash\w*|opposite|at odds|"
    r"(don'?t|do not|doesn'?t|does not) agree)\b"
)
# What the governance chain is made of: the memory's history, its merges and their approvals.
_HISTORY = r"(memory|history|repo|repository|approvals|merges)"
# Whether it is whole: checked, signed, not rewritten ("untampered" too).
_SOUND = (
    r"(verify|validat\w*|audit\w*|integrity|(un)?tamper\w*|alter\w*|rewr(ote|ite|itten)|signatures?|signed|checks?|"
    r"trust\w*)"
)
_VERIFY_MEMORY = (
    rf"\b{_SOUND}\b.*\b{_HISTORY}\b|"
    rf"\b{_HISTORY}\b.*\b(sound|valid|intact|ok|{_SOUND})\b|\bmemory (log|chain)\b.*\brewr"
)
_KERNELS = (
    r"\b(kernels?|what mode|which mode|governance mode|boosts?|(enforce|propose|detect.only) mode)\b|"
    r"(^|\b(the|your|its|memory'?s?|recall|governance|ranking|repo'?s?|current|which|what)) (settings|config\w*)\b|"
    r"\b(settings|config\w*)\b.*\b(in force|memory|repo|recall|governance)\b|"
    r"\b(rules?|polic(y|ies))\b.*\bgovern\w*|\bgovern\w*\b.*\b(rules?|polic(y|ies))\b|"
    r"\bagents?\b.*\b(allowed|permitted|may|can|able|permissions?|rights|capabilit\w*)\b|"
    r"\b(permissions?|rights|capabilit\w*)\b.*\bagents?\b|"
    r"\b(allowed|permitted|may|can|could)\b.*\b(this|the|an|my) agent\b"
)
_PREFETCH = (
    r"\b(before (i|we) (start|begin|work|touch|dig|pick|change|edit|modify|refactor|rewrite|upgrade|fix)\w*|"
    r"before (touching|starting|changing|editing)|pre-?fetch|pre-?load|set (me|us) up|"
    r"load (the )?(context|what)|(prepare|prep|ready) me|get me up to speed|about to \w+|get me (some )?context|"
    r"need to know before|(i'?m|we'?re|i am|we are) (starting|beginning|picking up)|what'?s relevant|"
    r"what (should (i|we)|do (i|we) need to) (know|read|load))\b|\bcontext (for|on|about|needed)\b"
)
_EXPAND = (
    r"\b(related|neighbou?r\w*|links?|linked|connected|around|depends? on|hangs? off|points? (to|at)|"
    r"cit(es|ed|ing)|referenc\w*|hops?|connects?|attached|edges?|travers\w*|walk\w*|graph)\b"
)
_GET = (
    r"^(show|get|open|print|display|read|pull up|fetch|let me (read|see)|(can|could|may) (i|we) (see|read))\b|"
    r"\bwhat does \S+ say\b|\b(want|like|need) to (see|read|look at|view)\b"
)
_LIST = (
    r"\b(list|enumerate|how many|count|every|all (the )?(open |active )?\w+s|(what|which) \w+s do we have|"
    r"which \w+s (are|is)|what \w+ (are|is) there|^(give|show) me (all |every )?(the )?\w+$)\b"
)
_STATUS = (
    r"\b(status|overview|summary|stats|statistics|size|state|snapshot) of (the )?(memory|repo)\b|"
    r"^(memory )?status\??$|\boverview of\b.*\bmemory\b|\bhow (many|big|large)\b.*\b(blocks?|memory|proposals?)\b|"
    r"\b(totals?|counts?|tally)\b.*\b(memory|blocks?|proposals?)\b|\b(memory|block|proposal) (totals?|counts?|tally)\b|"
    r"\bhow much\b.*\bstored\b|"
    r"\bmemory (repo )?(overview|status|summary|stats|statistics|size|snapshot)\b|"
    r"\bwhat'?s in (the )?memory\b|\bnumber of (blocks|proposals)\b|\bhow much\b.*\bin (the )?memory\b|"
    r"\b(stats|statistics|summary|overview|health) (on|of|for) (the )?memory\b|\bmemory health\b"
)
_TRUTH = (
    r"\b(current|latest|compiled) (truth|state|view)\b|\bwhat do we (currently )?know about\b|"
    r"\bcurrently true\b|\bwhere do(es)? (things )?stand\b"
)
# With an entity named, any of these asks what is true about it now.
_ENTITY_STATE = r"\b(true|truth|state|stand\w*|view|know|facts?|latest|current\w*|now|today)\b"
_CHECK = (
    _POLITE + r"(is it true|is it the case|verify( that)?|validate that|check( whether| if)?|confirm|true or false|"
    r"am i right|are we sure|(double[- ]?)?check|true that|is it (correct|accurate|right)|am i (correct|wrong))\b|"
    r"\b(can|could) you (check|confirm|verify)( that| it| this)?\??$|"
    r"\bor (did|do|does|is|are|was|were) (we|it|they) not\b|"
    r"\bis (that|this|it) (right|true|correct|accurate)\b|\b(true|or not|correct)\??$|"
    r",? (right|correct|true|yes|no)\??$|,? (didn'?t|don'?t|doesn'?t|isn'?t|aren'?t|wasn'?t|haven'?t|hasn'?t) "
    r"(we|it|they|he|she)\??$|\bor (did|has|have|is) (that|it|this) (changed?|moved)\b|"
    r"^(is|are|does|do|did|was|were|has|have|can)\b.*\b(really|actually|still|truly|indeed)\b|"
    r"^(sanity|fact|reality)[- ]?check\b"
)
_DIAGNOSE = (
    r"^why\b|\b(root cause|root of|what caused|diagnose|broke|failing|fails|crash\w*|timed? ?out|what went wrong|"
    r"what'?s behind|what is behind|causes?|causing|how come|keeps? \w+ing|hangs?|so slow|late|"
    r"what (made|led to|triggered)|reasons?|end(ed)? up|what happened|what'?s going on|troubleshoot\w*|"
    r"(going|gone|go) wrong|what'?s wrong|what is wrong|(source|origin) of|what('?s| is) making|what makes)\b|"
    r",? why\??$|"
    r"^explain\b"
)
_BUNDLE = (
    r"\b(everything (about|on|we|you|relat\w*)|all (the )?(evidence|context|material)|evidence (on|about|for)|brief me|"
    r"summari[sz]e|timeline of|history of|all we know|(whole|complete|full) (story|picture|background|account)|"
    r"put together|pull together|rundown|in one (go|place)|report on|digest|dossier|"
    r"(all|every) (the )?(information|info|piece)\b)|"
    # gathering verbs: the caller wants the pieces collected, not the best few
    r"^(please )?(assemble|collect|gather|round up|compile)\b"
)
_INTENT = (
    r"^(who|when|by when|what did we decide|which decision|what is the status|status of|which team|"
    r"which (person|people|engineer|one of us))\b|"
    r"\bwhat (was|were|has been) (decided|agreed)\b|"
    r"\bwhat did (we|the \w+|they|\w+) (decide|settle|agree|land|choose|pick|conclude)\b|\bdecision (on|about|for)\b|"
    r"\b(responsible for|deadline|due date|in charge of)\b|\bwhat'?s the plan\b|"
    r"\b(position|stance|verdict|conclusion|outcome) (on|about|of|did)\b"
)

# Asking for a search outright: the rules are sure of "similar" then, not merely left with it.
_SEARCH = (
    r"\b(find|search\w*|look (up|for)|dig up|mention\w*|regarding|relat(ed|ing) to|touching|"
    r"(anything|something|stuff|notes?|entries|blocks?|what do we have)( written| wrote)? (on|about|down about))\b"
)


def route(question: str) -> Call:
    """The one dispatcher call that answers `question` best, by rules (first matching rule wins);
    a search for similar blocks when no rule matches."""
    q = " ".join(question.split())
    return ruled(q) or Call("recall", {"query": q, "mode": "similar"})


def ruled(question: str) -> Call | None:
    """The call a rule picks for `question`, or None when no rule matches it (the rules are unsure)."""
    q = " ".join(question.split())
    ids = [m.group(0) for m in ID_IN_TEXT_RE.finditer(q)]
    proposal = PROPOSAL_IN_TEXT_RE.search(q)
    entity = _ENTITY_RE.search(q)
    subject = entity.group(0) if entity else _subject_phrase(q)
    change = _change(q, proposal.group(0) if proposal else None, ids)
    if change:
        return change
    if _has(_CONTRADICT, q) and not _has(r"\bis it true\b", q):
        return Call("graph", {"action": "contradict"})
    if _has(_STATUS, q) and not _has(r"\b(integrity|tamper\w*|alter\w*|signatures?)\b", q):
        return Call("core", {"action": "status"})
    if _has(_VERIFY_MEMORY, q):
        return Call("memory_verify", {})
    if _has(_KERNELS, q):
        return Call("kernels", {})
    if _has(_PREFETCH, q) and not _has(r"\b(all|every|every piece of) (the )?context\b", q):
        return Call("graph", {"action": "prefetch", "subject": subject or q})
    if ids and _has(_EXPAND, q):
        return Call("graph", {"action": "expand", "id": ids[0], "depth": 2 if _has(r"\b(two|2) hops?\b", q) else 1})
    # A bare ID with a verb or two asks for that block, unless the words ask what is true of it now.
    if ids and (_has(_GET, q) or (len(q.split()) <= 3 and not _has(_ENTITY_STATE, q))):
        return Call("core", {"action": "get", "id": ids[0]})
    if _type_in(q) and (_has(_LIST, q) or _status_in(q)) and not _has(_BUNDLE, q):
        return Call("core", _list_arguments(q))
    if (_has(_TRUTH, q) and subject) or (entity and _has(_ENTITY_STATE, q)):
        return Call("compiled_truth", {"subject": subject})
    return _recall(q)


def _change(q: str, proposal: str | None, ids: list[str]) -> Call | None:
    """A staged change the question asks for, if any: reject, approve, rollback or propose."""
    if proposal and _has(_REJECT, q):
        return Call("staged_change", {"phase": "reject", "proposal": proposal, "rationale": q})
    if proposal and _has(_APPROVE, q) and not _has(_ROLLBACK, q):
        return Call("staged_change", {"phase": "approve", "proposal": proposal, "rationale": q})
    if _has(_ROLLBACK, q) and (proposal or ids):
        return Call("staged_change", {"phase": "rollback", "target": proposal or ids[0], "rationale": q})
    if _has(_PROPOSE, q):
        return Call("staged_change", {"phase": "propose", "rationale": q, "edits": [_edit_from(q)]})
    return None


def _recall(q: str) -> Call | None:
    if _has(_CHECK, q):
        return Call("recall", {"query": _strip_lead(q), "mode": "verify"})
    if _has(_DIAGNOSE, q):
        return Call("recall", {"query": q, "mode": "diagnose"})
    if _has(_BUNDLE, q):
        return Call("recall", {"query": q, "mode": "bundle"})
    if _has(_INTENT, q):
        return Call("recall", {"query": q, "mode": "intent"})
    if _has(_SEARCH, q):
        return Call("recall", {"query": q, "mode": "similar"})
    return None


def _list_arguments(q: str) -> dict[str, Any]:
    arguments: dict[str, Any] = {"action": "list", "type": _type_in(q)}
    status = _status_in(q)
    if status:
        arguments["status"] = status
    if _has(r"\bopen\b", q) and "status" not in arguments and arguments["type"] == "task":
        arguments["status"] = "todo"
    return arguments


def _status_in(q: str) -> str | None:
    return next((s for s in _STATUSES if _has(rf"\b{s}\b", q)), None)


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
    verbs = (  # the ones naming a type first, so that the type word goes with them
        r"(record|log|add|save|file|open|raise|create|note) (a new|an?) \w+|(new|another) \w+|"
        rf"remember|record|note down|propose|log|save|keep in (mind|memory)|{_SAVE_LEAD}"
    )
    lead = rf"^(please )?({verbs})( that)?[:,]?\s*"
    text = re.sub(_SAVE_TAIL, "", re.sub(lead, "", q, flags=re.I), flags=re.I).strip()
    named = re.match(rf"^(?:please )?(?:{verbs})\b", q, re.I)
    kind = next((t for t in ("decision", "task", "fact", "incident") if named and t in named.group(0).lower()), None)
    if kind is None:
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
