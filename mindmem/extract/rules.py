"""The default extractor: rules, no model. Sentences that decide, assign, report or state become candidates.

Fast (a pass of regular expressions per sentence) and predictable: the same text gives
the same candidates. It finds
- entities: PER-/PRJ-/TOOL-/ORG- IDs, speakers, and capitalised names with evidence of
  their kind (a speaker is a person, "migrate to Kafka" names a tool …), merged with
  entity blocks already in memory;
- decisions ("we decided", "let's go with", "from now on"), tasks ("TODO", "action item",
  "need to … by"), incidents ("outage", "went down") and facts ("for the record", "FYI");
- absolute dates from relative ones, given the reference date;
- `supersedes` when a new decision replaces an active one on the same subject, or a sentence gives
  a fact or decision in memory a new value ("the rate limit is now 1200" when a fact says 600), and
  `relates_to` links to blocks that already mention the same entities.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from mindmem.errors import BadInput
from mindmem.extract.base import Candidate, Context, Extraction, Span
from mindmem.extract.dates import find_dates
from mindmem.extract.names import (
    CALENDAR,
    STOP,
    Entities,
    attendees,
    entity,
    entity_candidates,
    known_entities,
    mentions,
)
from mindmem.extract.updates import UPDATABLE, Updates

# Labels a judge gives sentences the rules left: "decision", "fact", "incident" or "none".
Judge = Callable[[list[str]], list[str]]
# Names a model finds in the text: (name as written, kind prefix, offset of its first mention).
Namer = Callable[[str], list[tuple[str, str, int]]]
JUDGED_CONFIDENCE = 0.5
# A speaker is a capitalised name, or after a chat's [time] stamp a lower-case handle ("[09:12] jules: …").
_SPEAKER = re.compile(
    r"^[ \t]*(?:[-*>]\s+)?(?:\[[^\]\n]{1,40}\][ \t]*)?(?:\*\*)?"
    r"(?P<name>[A-Z][\w.'-]{0,30}(?: [A-Z][\w.'-]{0,30})?|(?<=\])[a-z][\w.-]{0,30}|(?<=\] )[a-z][\w.-]{0,30})"
    r"(?:\*\*)?:[ \t]+",
    re.M,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[ \t]+(?=[A-Z\[\"'(])|\n")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?")

_KINDS = [
    (
        "decision",
        re.compile(
            r"\b(?:we(?:'ve| have)? decided(?: to| that| on)?|decision(?=:)|let'?s go with|let us go with|"
            r"from now on|going forward|we(?:'ll| will) (?:use|go with|standardi[sz]e on|switch to|move to)|"
            r"(?:we )?agreed(?: to| that| on)|we(?:'re| are) going with|"
            # The same with words between: "we agreed yesterday to", "decided with Kai that",
            # "Agreed with the SRE team:", "Decision from the review:", "let's agree that".
            r"(?<!not )(?<!n't )(?:agreed|decided)(?: \w+){1,4}?(?: to| that| on|(?=:))|let'?s agree|"
            r"decision(?: \w+){1,4}?(?=:))\b",
            re.I,
        ),
    ),
    (
        "incident",
        re.compile(
            r"\b(?:outage|incident|went down|is down|was down|crash(?:ed|es)?|post-?mortem|degraded|"
            r"timed out|time-?outs?|error rate|paged|data loss|rolled back the deploy)\b",
            re.I,
        ),
    ),
    (
        "task",
        re.compile(
            r"(?:^(?:TODO|action item|AI)\b|\b(?:TODO|action item)s?:|\bneeds? to\b.*\bby\b|"
            r"(?:\b(?:[A-Z][a-z]+|I|we) ?|^)(?:will|'ll|’ll) (?!use\b|go with\b)\w+.*"
            r"\b(?:by|before|tomorrow|today|tonight|next week|this week|next month|on (?:mon|tue|wed|thu|fri)\w*)\b|"
            r"\bfollow[- ]up\b|\bassigned to\b|"
            # Notes' shorthand and requests with a deadline: "Lee to draft the notes by May 3",
            # "Paul, can you write the job by Friday".
            r"^[A-Z][a-z]+ to [a-z]+\b.*\bby\b|\b(?:can|could) you\b.*\bby\b)",
            re.I,
        ),
    ),
    (
        "fact",
        re.compile(
            r"\b(?:FYI|for the record|note that|turns out|it turns out|heads up|TIL)\b|"
            r"\b(?:is|are) (?:running|deployed|hosted|located|stored) (?:on|in|at)\b",
            re.I,
        ),
    ),
]
_LEADS = re.compile(
    r"^(?:(?:so|ok(?:ay)?|alright|also|and|then|well|right),?\s+)*"
    r"(?:we(?:'ve| have)? decided(?: to| that| on)?|decision:|let'?s go with|let us go with|from now on,?|"
    r"going forward,?|(?:we )?agreed(?: to| that| on)?|we(?:'re| are) going with|TODO:?|action items?:?|AI:|"
    r"FYI:?,?|for the record,?|note that|heads up:?,?|it turns out( that)?|turns out( that)?)\s*",
    re.I,
)
_REPLACES = re.compile(
    r"\b(?:instead|no longer|replac\w*|supersed\w*|deprecat\w*|(?:switch|mov|migrat)\w*\b[^.]*?\bfrom)\b", re.I
)
_WORD = re.compile(r"[a-z0-9]+")
_COMMON = {
    "the", "a", "an", "to", "of", "for", "and", "or", "in", "on", "we", "is", "are", "be", "it", "that", "this",
    "with", "use", "will", "by", "our", "from", "at", "as",
}  # fmt: skip
MAX_LINKS = 3


@dataclass
class _Sentence:
    start: int
    end: int
    text: str
    speaker: str | None
    title: bool = False  # a heading or the document's title line: it names the document, it states nothing


class RulesExtractor:
    name = "rules"

    def __init__(self, **options: object) -> None:
        if options:
            raise BadInput(f"the rules backend takes no options (got {', '.join(options)})")

    def extract(
        self, text: str, context: Context, judge: Judge | None = None, namer: Namer | None = None
    ) -> Extraction:
        """Candidates from the sentences the rules recognise; with `judge` (the hybrid backend's model),
        also from those it labels decision, fact or incident among the rest, and with `namer` the
        entities it names that the rules did not find."""
        entities = Entities(known=known_entities(context.existing.blocks.values()))
        attendees(text, entities)
        candidates: list[Candidate] = []
        titles = {(b.type, _norm(b.title)) for b in context.existing.blocks.values()}
        changes = Updates(context.existing.blocks.values())
        sentences = list(_sentences(text))
        updates = [changes.of(sentence.text) for sentence in sentences]
        kinds = [
            None if s.title else _kind(s.text) or (up[0].type if up else None)
            for s, up in zip(sentences, updates, strict=True)
        ]
        judged = [i for i, kind in enumerate(kinds) if kind is None and not sentences[i].title] if judge else []
        for i, label in zip(judged, judge([sentences[i].text for i in judged]) if judge else [], strict=True):
            kinds[i] = None if label == "none" else label
        asked = set(judged)
        for n, (sentence, kind) in enumerate(zip(sentences, kinds, strict=True)):
            if kind is None:
                if not sentence.title and _may_name(sentence, entities):  # a title's capitals are not names
                    _names_in(sentence, entities)
                continue
            title = _title(sentence.text)
            if len(title) < 4 or (kind, _norm(title)) in titles:
                continue  # too short to mean anything, or memory already has it (re-running adds nothing)
            titles.add((kind, _norm(title)))
            mentioned = _names_in(sentence, entities)
            cand = _candidate(f"{kind}-{n}", kind, title, sentence, mentioned, context, candidates)
            if kind in UPDATABLE:
                old = [u.id for u in updates[n] if u.type == kind]
                rest = [e for e in cand.edges if e[1] not in old]
                cand = replace(cand, edges=tuple(dict.fromkeys([*(("supersedes", i) for i in old), *rest])))
            candidates.append(replace(cand, confidence=JUDGED_CONFIDENCE) if n in asked else cand)
        if namer:
            _add_named(namer, text, sentences, entities)
        return Extraction("rules", tuple(entity_candidates(entities) + candidates))


def _add_named(namer: Namer, text: str, sentences: list[_Sentence], entities: Entities) -> None:
    """The entities a model names that the rules did not find; titles are blanked (same offsets),
    since a title's capitals are not names."""
    plain = list(text)
    for sentence in sentences:
        if sentence.title:
            plain[sentence.start : sentence.end] = " " * (sentence.end - sentence.start)
    for name, prefix, start in namer("".join(plain)):
        if name.lower() not in entities.known:
            entity(entities, name, prefix, Span(start, start + len(name), name))


def _sentences(text: str) -> Iterator[_Sentence]:
    """Sentences with absolute offsets; a `Name:` line prefix becomes the speaker of that line."""
    pos = 0
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    for n, line in enumerate(lines):
        start, body = pos, line
        pos += len(line)
        if line.lstrip().startswith("#") or (n == first and _is_title(lines, n)):
            chunk = line.strip()
            yield _Sentence(start + line.index(chunk[0]), start + line.index(chunk[0]) + len(chunk), chunk, None, True)
            continue
        speaker = None
        m = _speaker(body)
        if m:
            speaker = m.group("name")
            start += m.end()
            body = body[m.end() :]
        bullet = _BULLET.match(body)
        if bullet:
            start += bullet.end()
            body = body[bullet.end() :]
        offset = 0
        for part in _SENTENCE_END.split(body):
            chunk = part.strip()
            if chunk:
                lead = part.index(chunk[0])
                yield _Sentence(start + offset + lead, start + offset + lead + len(chunk), chunk, speaker)
            offset += len(part) + 1


def _is_title(lines: list[str], n: int) -> bool:
    """A first line set apart by a blank line from more text, not ending a sentence, and not someone
    speaking: a title. A text of one line is what it says, not a title."""
    apart = n + 1 < len(lines) and not lines[n + 1].strip() and any(line.strip() for line in lines[n + 2 :])
    return apart and not lines[n].rstrip().endswith((".", "!", "?")) and not _speaker(lines[n])


def _speaker(line: str) -> re.Match[str] | None:
    """The `Name: ` prefix of a line said by someone ("Impact: …" or "Monday: …" is not one)."""
    m = _SPEAKER.match(line)
    return m if m and m.group("name") not in STOP and not CALENDAR.match(m.group("name")) else None


# Every trigger of _KINDS contains one of these; a substring test rules out most sentences cheaply.
_KEYWORDS = (
    "decid", "decision", "let's go", "let us go", "from now on", "going forward", "will", "'ll", "’ll", "agreed",
    "going with", "outage", "incident", "down", "crash", "mortem", "degraded", "timed out", "time", "error rate",
    "paged", "data loss", "rolled back", "todo", "action item", "need", "follow", "assigned", "fyi",
    "for the record", "note that", "turns out", "heads up", "til", "running", "deployed", "hosted", "located",
    "stored", "agree", "can you", "could you",
)  # fmt: skip
_NAME_TO = re.compile(r"[A-Z][a-z]+ to [a-z]")
_CAPITAL = re.compile(r"[A-Z]")


def _kind(text: str) -> str | None:
    low = text.lower()
    if not low.startswith("ai") and not any(word in low for word in _KEYWORDS) and not _NAME_TO.match(text):
        return None
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return None


def _may_name(sentence: _Sentence, entities: Entities) -> bool:
    """Whether a sentence that becomes no block could name an entity not yet seen (a quick test: most
    small talk has no capital after its first letter, and its speaker is known by then)."""
    new_speaker = sentence.speaker is not None and sentence.speaker.lower() not in entities.known
    return new_speaker or _CAPITAL.search(sentence.text, 1) is not None


def _names_in(sentence: _Sentence, entities: Entities) -> list[str]:
    return mentions(sentence.text, Span(sentence.start, sentence.end, sentence.text), sentence.speaker, entities)


def _title(text: str) -> str:
    title = _LEADS.sub("", text.strip().strip("*_`")).strip(" .!:;-")
    title = title[:1].upper() + title[1:]
    if len(title) > 100:
        title = title[:100].rsplit(" ", 1)[0] + "…"
    return title


def _candidate(
    key: str,
    kind: str,
    title: str,
    sentence: _Sentence,
    mentioned: list[str],
    context: Context,
    earlier: list[Candidate],
) -> Candidate:
    fields: dict[str, object] = {}
    edges: list[tuple[str, str]] = []
    dates = find_dates(sentence.text, context.reference_date, past=kind in ("incident", "fact"))
    when = dates[0].value.isoformat() if dates else None
    entity_ids = [i for i in mentioned if i.split("-", 1)[0] in ("PER", "PRJ", "TOOL", "ORG")]
    things = [i for i in entity_ids if not i.startswith("PER-")]
    # A project is what a block is about; failing that, the last tool named ("from MySQL to PostgreSQL").
    subject = next((i for i in things if i.startswith("PRJ-")), things[-1] if things else None)
    if kind == "task":
        if when:
            fields["due"] = when
        people = [i for i in entity_ids if i.startswith("PER-")]
        # Someone named in the sentence ("Bob will …") owns it before the person who said it.
        speaker = _speaker_id(sentence, mentioned)
        named = [i for i in people if i != speaker]
        if speaker and re.match(r"(?:I|I'll|I’ll|I'm)\b", sentence.text):
            fields["assignee"] = speaker
        elif named or people:
            fields["assignee"] = (named or people)[0]
        decision = next((c for c in reversed(earlier) if c.type == "decision"), None)
        if decision is not None and set(things) & ({t for _, t in decision.edges} | {decision.fields.get("subject")}):
            edges.append(("depends_on", f"key:{decision.key}"))
    elif kind in ("decision", "fact", "incident"):
        fields["valid_from"] = when or context.reference_date.isoformat()
    if subject and kind != "task":
        fields["subject"] = subject
    edges += [("relates_to", i) for i in mentioned if i != subject]
    if kind == "decision":
        edges += [("supersedes", old) for old in _replaced(sentence.text, subject, context)]
    edges += [("relates_to", i) for i in _neighbours(entity_ids, context) if ("supersedes", i) not in edges]
    body = _body(sentence, dates, context.source)
    return Candidate(
        key=key,
        type=kind,
        title=title,
        span=Span(sentence.start, sentence.end, sentence.text),
        body=body,
        fields=fields,
        edges=tuple(dict.fromkeys(edges)),
        confidence=0.7 if kind == "decision" else 0.6,
    )


def _speaker_id(sentence: _Sentence, mentioned: list[str]) -> str | None:
    """The speaker's entity ID: `mentions` adds it right after any explicit IDs."""
    if sentence.speaker is None:
        return None
    return next((i for i in mentioned if i.startswith("PER-")), None)


def _replaced(text: str, subject: str | None, context: Context) -> list[str]:
    """Active decisions the new one replaces: same subject, and the text says so or the titles overlap."""
    if subject is None:
        return []
    words = set(_WORD.findall(text.lower())) - _COMMON
    says_so = bool(_REPLACES.search(text))
    out = []
    for block in context.existing.blocks.values():
        if block.type != "decision" or block.status != "active" or block.subject != subject:
            continue
        overlap = words & (set(_WORD.findall(block.title.lower())) - _COMMON)
        if says_so or len(overlap) >= 2:
            out.append(block.id)
    return out


def _neighbours(entity_ids: list[str], context: Context) -> list[str]:
    """Active blocks already in memory about the same entities (a few, newest first)."""
    wanted = set(entity_ids)
    if not wanted:
        return []
    hits = [
        b
        for b in context.existing.blocks.values()
        if b.type != "entity"
        and b.status in ("active", "todo", "doing", "blocked")
        and (b.subject in wanted or wanted & {t for _, t in b.all_edges()})
    ]
    return [b.id for b in sorted(hits, key=lambda b: b.created, reverse=True)[:MAX_LINKS]]


def _body(sentence: _Sentence, dates: list, source: str) -> str:
    quote = f"> {sentence.speaker + ': ' if sentence.speaker else ''}{sentence.text}"
    lines = [quote, ""]
    if dates:
        lines.append("Dates: " + ", ".join(f"{d.text} = {d.value.isoformat()}" for d in dates))
    lines.append(f"Source: {source}, characters {sentence.start}-{sentence.end}.")
    return "\n".join(lines)


def _norm(title: str) -> str:
    return " ".join(_WORD.findall(title.lower()))
