"""Entities in notes: explicit IDs, speakers, attendees, and capitalised names with evidence of their kind.

A name becomes an entity only with a cue of what it names ("migrate to Kafka" a tool, "ask Bob" a
person, "the Atlas project" a project, "the Stripe webhook" a product qualifying a noun) or as a
speaker or attendee; a word that is merely capitalised ("EU", "VAT", the first word of a sentence,
a heading's words) is not one. Names in any sentence count, not only in those that become blocks.
Names already in memory are linked to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mindmem.extract.base import Candidate, Span
from mindmem.store.blocks import ID_IN_TEXT_RE, Block, slugify

ATTENDEES_RE = re.compile(r"^\s*(?:attendees|present|participants|people)\s*:\s*(?P<names>.+)$", re.I | re.M)
# A name does not start with an article ("The Atlas project" names Atlas).
_NAME = re.compile(
    r"(?<![\w-])(?!(?:The|A|An|Our|This|That) )(?:[A-Z][a-z0-9]*[A-Z0-9][\w]*|[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*)(?![\w-])"
)
_STRONG_TOOL_CUE = (
    r"\b(?:use|using|uses|adopt|adopting|migrate to|migrating to|switch to|switching to|move to|moving to|"
    r"deploy(?:ed)? (?:on|to)|run(?:s|ning)? on|hosted on|go(?:ing)? with)\s+$"
)
_TOOL_CUE = re.compile(_STRONG_TOOL_CUE + r"|\b(?:with|in|on|from)\s+$", re.I)
# An all-capitals word ("EU", "VAT", "API") is an ordinary abbreviation unless the text uses it as a tool.
_ACRONYM = re.compile(r"[A-Z]{2,6}s?")
_STRONG_TOOL = re.compile(_STRONG_TOOL_CUE, re.I)
_CLAUSE_END = re.compile(r"[.:;!?\"'(\[]\s*$")
_NEXT_WORD = re.compile(r" ([a-z]+)\b")
_FUNCTION_WORDS = {
    "the", "a", "an", "to", "of", "for", "and", "or", "but", "nor", "so", "yet", "in", "on", "at", "by", "with",
    "from", "about", "as", "into", "over", "after", "before", "than", "that", "this", "these", "those", "is", "are",
    "was", "were", "be", "been", "has", "have", "had", "do", "does", "did", "will", "would", "can", "could",
    "shall", "should", "may", "might", "must", "not", "no", "if", "when", "while", "who", "which", "what", "said",
    "says", "told", "asked", "thinks", "agreed", "wants",
}  # fmt: skip
_PROJECT_CUE = re.compile(r"\b(?:project|service|repo|initiative)\s+$", re.I)
_PROJECT_AFTER = re.compile(r"^\s+(?:project|service|repo|initiative)\b", re.I)
_PERSON_AFTER = re.compile(r"^\s+(?:will|'ll|’ll|said|says|thinks|owns|is on|takes|took|agreed|asked)\b")
_PERSON_CUE = re.compile(
    # A bare "to" is no cue: "publish events to Kafka".
    r"\b(?:ask|asked|cc|ping|with|(?:talk|talked|spoke|speak|reach out|write|wrote) to|by|from|assign(?:ed)? to|"
    r"owner:?)\s+@?$",
    re.I,
)
STOP = {
    "I", "We", "The", "A", "An", "It", "This", "That", "These", "Those", "Let", "Lets", "Let's", "So", "Ok",
    "Okay", "And", "But", "Or", "Also", "Then", "If", "When", "Yes", "No", "Not", "TODO", "FYI", "AI", "TIL",
    "Action", "Decision", "Note", "Notes", "Meeting", "Agenda", "Attendees", "Present", "Participants", "Summary",
    "Next", "Last", "Today",
    "Tomorrow", "Yesterday", "Everyone", "Team", "Thanks", "Great", "Sure", "Right", "Well", "Hi", "Hello",
    "Our", "My", "Your", "Their", "His", "Her", "What", "Why", "How", "Who", "Where", "Which", "Q", "EOD",
    "ASAP", "PR", "CI", "OK", "ADR", "RFC",
    # Labels of write-ups and ADRs ("Follow-up: …", "Impact: …"), not speakers.
    "Follow-up", "Followup", "Postmortem", "Post-mortem", "Impact", "Context", "Consequence", "Consequences",
    "Status", "Update", "Updates", "Background", "Problem", "Solution", "Owner", "Reviewers", "Blocked",
}  # fmt: skip
CALENDAR = re.compile(
    r"^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|"
    r"August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Q[1-4]|H[12])$"
)


@dataclass
class Entities:
    """Entities seen in this text: final ID -> (kind prefix, display name), plus how names map to IDs."""

    known: dict[str, str] = field(default_factory=dict)  # lower-case name or alias -> existing entity ID
    found: dict[str, tuple[str, Span]] = field(default_factory=dict)  # new entity ID -> (name, first mention)


def mentions(text: str, span: Span, speaker: str | None, entities: Entities) -> list[str]:
    """Entity IDs a sentence (`text` at `span`) names: explicit IDs, its speaker, and capitalised names
    with a kind."""
    found: list[str] = []

    def add(entity_id: str) -> None:
        if entity_id not in found:
            found.append(entity_id)

    for m in ID_IN_TEXT_RE.finditer(text):
        add(m.group(0))
    if speaker:
        add(entity(entities, speaker, "PER", span))
    for m in _NAME.finditer(text):
        name = m.group(0)
        if name in STOP or CALENDAR.match(name) or ID_IN_TEXT_RE.fullmatch(name):
            continue
        known = entities.known.get(name.lower())
        if known:
            add(known)
            continue
        prefix = kind_of_name(text, m)
        if prefix:
            add(entity(entities, name, prefix, Span(span.start + m.start(), span.start + m.end(), name)))
    return found


def kind_of_name(text: str, m: re.Match[str]) -> str | None:
    before, after, name = text[: m.start()], text[m.end() :], m.group(0)
    if _PROJECT_CUE.search(before) or _PROJECT_AFTER.match(after):
        return "PRJ"
    if _STRONG_TOOL.search(before):  # "let's go with Greenhouse", "migrate to Kafka": a tool
        return "TOOL" if m.start() > 0 else None
    if _PERSON_AFTER.match(after) or (_PERSON_CUE.search(before) and " " not in name and name.istitle()):
        return "PER"
    if _ACRONYM.fullmatch(name):
        return "TOOL" if _STRONG_TOOL.search(before) else None
    inner_caps = " " not in name and any(c.isupper() for c in name[1:])
    if _TOOL_CUE.search(before) or inner_caps or any(c.isdigit() for c in name):
        return "TOOL" if m.start() > 0 else None
    # A lone capitalised word inside a sentence that qualifies the noun after it names a product ("the
    # Stripe webhook secret", "renew the Datadog contract"); people are rarely used so ("told Ana the …").
    after_word = _NEXT_WORD.match(after)
    if " " not in name and m.start() > 0 and not _CLAUSE_END.search(before) and after_word:
        return "TOOL" if after_word.group(1) not in _FUNCTION_WORDS else None
    return None


def entity(entities: Entities, name: str, prefix: str, span: Span) -> str:
    known = entities.known.get(name.lower())
    if known:
        return known
    entity_id = f"{prefix}-{slugify(name)}"
    if entity_id.lower() in entities.known:
        return entities.known[entity_id.lower()]
    entities.found.setdefault(entity_id, (name, span))
    entities.known[name.lower()] = entity_id
    return entity_id


def attendees(text: str, entities: Entities) -> None:
    """`Attendees: Alice Moreno, Bob Chen` lines name people; their first names then mean them too."""
    for m in ATTENDEES_RE.finditer(text):
        offset = m.start("names")
        for part in re.finditer(r"[^,;]+", m.group("names")):
            name = part.group(0).strip(" .")
            if not _NAME.fullmatch(name):
                continue
            start = offset + part.start() + part.group(0).index(name)
            entity_id = entity(entities, name, "PER", Span(start, start + len(name), name))
            entities.known.setdefault(name.split()[0].lower(), entity_id)


def entity_candidates(entities: Entities) -> list[Candidate]:
    return [
        Candidate(key=entity_id, type="entity", title=name, span=span, id=entity_id, confidence=0.6)
        for entity_id, (name, span) in entities.found.items()
    ]


def known_entities(blocks: object) -> dict[str, str]:
    known: dict[str, str] = {}
    for block in blocks:  # type: ignore[attr-defined]
        if isinstance(block, Block) and block.type == "entity":
            for name in (block.title, *block.aliases, block.id):
                known[name.lower()] = block.id
            known[block.id.split("-", 1)[1].replace("-", " ")] = block.id
    return known
