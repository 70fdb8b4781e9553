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
    """The model's names that are names of the text: whole words in it, no abbreviation, date, ID or
    word the rules hold to be no name; one kind per name (the first list that gives it)."""
    out: dict[str, tuple[str, str, int]] = {}
    for kind, prefix in KINDS.items():
        for given in data[kind]:
            name = str(given).strip().lstrip("@")
            found = _whole_word(name, text)
            if found is None or name.lower() in out or not _could_be_name(found[0]):
                continue
            out[name.lower()] = (found[0], prefix, found[1])
    return sorted(out.values(), key=lambda kept: kept[2])


def _whole_word(name: str, text: str) -> tuple[str, int] | None:
    if not name or len(name.split()) > 3:
        return None
    m = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.I)
    return (m.group(0), m.start()) if m else None


def _could_be_name(name: str) -> bool:
    words = name.split()
    if name in STOP or any(CALENDAR.match(w) for w in words) or ID_IN_TEXT_RE.fullmatch(name):
        return False
    if _ABBREVIATION.fullmatch(name):
        return False
    # Lower-case words are ordinary words unless they are one token (a handle, "pnpm", "date-fns").
    return len(words) == 1 or all(w[:1].isupper() for w in words)
