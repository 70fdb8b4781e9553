"""The model's second part in `hybrid`: the people, tools and projects a text names, for the rules to add.

The rules take a name only with a cue of its kind ("migrate to Kafka", "ask Bob"), so names in
plain positions escape them: a lower-case chat handle ("[09:12] jules: …"), a tool at the start of
a sentence ("RabbitMQ is still on 3.9"), a library after "via" ("via structlog"). A small model
reads those well. It is asked once per chunk, with the same system prompt as the labelling (one
evaluated prefix), and a name it gives is kept only if the text holds it as a whole word and it is
not a word the rules know to be no name (so a model can never invent an entity), as an entity
the rules did not already find.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from mindmem.errors import BadInput
from mindmem.extract.label import SYSTEM_PROMPT, JsonModel
from mindmem.extract.names import CALENDAR, STOP
from mindmem.store.blocks import ID_IN_TEXT_RE

KINDS = {"people": "PER", "tools": "TOOL", "projects": "PRJ"}
MAX_NAMES = 12
NAMES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        kind: {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": MAX_NAMES} for kind in KINDS
    },
    "required": list(KINDS),
    "additionalProperties": False,
}
# A name is a few tokens; the three lists together stay well under this.
NAMES_TOKENS = 200
# An all-capitals word of up to four letters is an abbreviation far more often than a product (EU, VAT, SLA).
_ABBREVIATION = re.compile(r"[A-Z]{1,4}s?")
# Where a line's words start: after a bullet, a [time] stamp; and a sentence's: after a speaker too.
_LINE_LEAD = r"(?:^|\n)[ \t]*(?:[-*>][ \t]+)?(?:\[[^\]\n]{1,40}\][ \t]*)?"
_LINE_START = re.compile(_LINE_LEAD + "$")
_SENTENCE_START = re.compile(rf"(?:{_LINE_LEAD}(?:[\w.'-]+(?: [\w.'-]+)?:[ \t]+)?|[.!?:;][ \t]+)$")
_TOOL_BEFORE = re.compile(r"\b(?:with|via|using|use)[ \t]+$", re.I)


def ask_names(model: JsonModel, text: str) -> list[tuple[str, str, int]]:
    """The names the model finds in `text` that the text holds: (name, prefix, offset), first mention first."""
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Names in:\n{text.strip()}\nReply:"},
    ]
    raw = model.complete_json(messages, NAMES_SCHEMA, NAMES_TOKENS)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadInput(f"the model's names are not JSON ({exc.msg}): {raw[:80]!r}") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in KINDS):
        raise BadInput(f"the model's names are not lists of people, tools and projects: {raw[:80]!r}")
    return kept_names(data, text)


def kept_names(data: dict[str, list[Any]], text: str) -> list[tuple[str, str, int]]:
    """The model's names that are names in the text: whole words in it, in a place a name can be
    (below), and no abbreviation, date, ID or word the rules hold to be no name; one kind per name
    (the first list that gives it)."""
    out: dict[str, tuple[str, str, int]] = {}
    for kind, prefix in KINDS.items():
        for given in data[kind]:
            name = _trimmed(str(given).strip().lstrip("@"))
            if name.lower() in out or not _could_be_name(name):
                continue
            found = next((m for m in _whole_words(name, text) if _placed_as_name(m, text)), None)
            if found is not None:
                out[name.lower()] = (found.group(0), prefix, found.start())
    return sorted(out.values(), key=lambda kept: kept[2])


def _whole_words(name: str, text: str) -> Iterator[re.Match[str]]:
    return re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.I) if name else iter(())


def _trimmed(name: str) -> str:
    """A name without the ordinary words a model writes after it ("Adyen API", "Cloudflare support",
    "Redis cluster" name Adyen, Cloudflare, Redis): trailing lower-case words and abbreviations go when
    a capitalised word that is neither leads."""
    words = name.split()
    while len(words) > 1 and (words[-1].islower() or _ABBREVIATION.fullmatch(words[-1])):
        words.pop()
    lead = words[0] if words else ""
    return " ".join(words) if lead[:1].isupper() and not _ABBREVIATION.fullmatch(lead) else name


def _could_be_name(name: str) -> bool:
    words = name.split()
    if not words or len(words) > 3 or name in STOP or ID_IN_TEXT_RE.fullmatch(name):
        return False
    if any(CALENDAR.match(w) for w in words) or _ABBREVIATION.fullmatch(name):
        return False
    return len(words) == 1 or all(w[:1].isupper() for w in words)  # "deploy job" is ordinary words


def _placed_as_name(m: re.Match[str], text: str) -> bool:
    """Where a mention shows a name: a lower-case word only as a chat handle ("[09:12] jules:"), with a
    digit, dot or hyphen ("date-fns"), or after "with", "via", "using"; a lone capitalised word only
    inside a sentence ("Weather was nice" is no name; given as a person, the 0.5B's "Root", "Flags",
    "Sessions" opening sentences were none either); anything else (RabbitMQ, React Native) anywhere."""
    word, before, after = m.group(0), text[: m.start()], text[m.end() :]
    if word.islower():
        handle = _LINE_START.search(before) is not None and after.startswith(":")
        return handle or re.search(r"[\d.-]", word) is not None or _TOOL_BEFORE.search(before) is not None
    plain = " " not in word and not any(c.isupper() or c.isdigit() for c in word[1:])
    return not plain or _SENTENCE_START.search(before) is None
