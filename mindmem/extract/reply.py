"""The reply a model gives for one chunk of text: its JSON schema, and validation into candidates.

The model does not quote: the chunk is shown as numbered lines and a candidate names its line by
number, so it writes less and cannot misquote; the tool copies the text. Candidates are keyed
c1, c2, … in order, and an edge may point only at an earlier candidate or at a block ID the prompt
lists (the llama-cpp grammar, `mindmem.extract.grammar`, makes anything else impossible).

    {"candidates": [{"key": "c1", "type": "decision", "line": 3, "title": "...", "edges": []},
                     {"key": "c2", "type": "task", "line": 4, "title": "...", "assignee": "Bob",
                      "due": "2026-12-04", "edges": [{"type": "depends_on", "target": "c1"}]},
                     {"key": "c3", "type": "entity", "line": 4, "title": "Bob", "kind": "person", "edges": []}]}

`validate_reply` accepts candidate by candidate: one that fails is dropped with a warning naming it
and why, and the others are kept. Only a reply that is unusable as a whole (not an object holding
a list of candidates) is an error.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from mindmem.errors import BadInput, BlockError
from mindmem.extract.base import CANDIDATE_TYPES, Candidate, Extraction, Span
from mindmem.store import blocks as b

MAX_CANDIDATES = 16
MAX_EDGES = 4
TITLE_MAX = 120
NAME_MAX = 60
KEYS = tuple(f"c{i}" for i in range(1, MAX_CANDIDATES + 1))
PLAIN_TYPES = tuple(t for t in CANDIDATE_TYPES if t not in ("task", "entity"))
# Longest line offered to the model; longer lines are offered sentence by sentence.
SPAN_MAX = 400
_SENTENCE_RE = re.compile(r"(?<=[.!?])[ \t]+(?=\S)")
_KEYS_BY_TYPE = {
    "task": ("key", "type", "line", "title", "assignee", "due", "edges"),
    "entity": ("key", "type", "line", "title", "kind", "edges"),
}
CONFIDENCE = 0.6


@dataclass(frozen=True)
class Line:
    """One numbered line of a chunk as the prompt shows it, with its offsets in the chunk."""

    start: int
    end: int
    text: str


def numbered_lines(text: str) -> list[Line]:
    """The lines a candidate may point at: each non-empty line, split into sentences when long."""
    out: list[Line] = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        pieces = [(0, raw)] if len(raw.strip()) <= SPAN_MAX else _sentences(raw)
        for offset, piece in pieces:
            stripped = piece.strip()
            if stripped:
                start = pos + offset + piece.index(stripped[0])
                out.append(Line(start, start + len(stripped), stripped))
        pos += len(raw)
    return out


def _sentences(line: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for m in [*_SENTENCE_RE.finditer(line), None]:
        end = m.start() if m else len(line)
        out.append((pos, line[pos:end]))
        pos = m.end() if m else pos
    return out


def keys_of(block_type: str) -> tuple[str, ...]:
    return _KEYS_BY_TYPE.get(block_type, ("key", "type", "line", "title", "edges"))


def reply_schema(lines: int, targets: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON schema of a reply (for servers that take one): line numbers 1…`lines`, edge targets
    among the keys and `targets`. Every property is required and optional ones nullable, as
    OpenAI-style strict output demands. Order of keys and edges is checked by `validate_reply`."""
    string = {"type": "string", "minLength": 1, "maxLength": TITLE_MAX}
    props: dict[str, Any] = {
        "key": {"type": "string", "enum": list(KEYS)},
        "line": {"type": "integer", "enum": list(range(1, lines + 1))},
        "title": string,
        "edges": {
            "type": "array",
            "maxItems": MAX_EDGES,
            "items": _object(
                {
                    "type": {"type": "string", "enum": list(b.EDGE_TYPES)},
                    "target": {"type": "string", "enum": [*KEYS, *targets]},
                }
            ),
        },
    }
    extra = {
        "task": {
            "assignee": {"anyOf": [{"type": "string", "maxLength": NAME_MAX}, {"type": "null"}]},
            "due": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
        },
        "entity": {"kind": {"type": "string", "enum": list(b.ENTITY_KINDS)}},
    }
    variants = []
    for t in CANDIDATE_TYPES:
        own = {**props, **extra.get(t, {}), "type": {"type": "string", "enum": [t]}}
        variants.append(_object({k: own[k] for k in keys_of(t)}))
    candidates = {"type": "array", "maxItems": MAX_CANDIDATES, "items": {"anyOf": variants}}
    return _object({"candidates": candidates})


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def validate_reply(
    data: Any,
    text: str,
    *,
    known: Collection[str] = (),
    listed: Collection[str] | None = None,
    base: int = 0,
    backend: str = "model",
) -> Extraction:
    """Check a parsed reply against `text` (the chunk it answers) and build the candidates.

    `known` holds the block IDs in memory (an entity already there is marked `existing`); `listed`
    the IDs the prompt offered as edge targets (default: all of `known`). Span offsets are shifted
    by `base`, the chunk's start in the whole input. A bad candidate is dropped with a warning.
    """
    if not isinstance(data, dict) or set(data) != {"candidates"} or not isinstance(data["candidates"], list):
        raise BadInput('the reply is not a JSON object holding a list "candidates"')
    lines = numbered_lines(text)
    targets = set(known if listed is None else listed)
    accepted: list[Candidate] = []
    warnings: list[str] = []
    for i, item in enumerate(data["candidates"][:MAX_CANDIDATES]):
        key = item.get("key") if isinstance(item, dict) else None
        name = f"candidate {key!r}" if isinstance(key, str) else f"candidates[{i}]"
        try:
            cand, dropped = _candidate(item, i, text, lines, accepted, targets, known, base)
        except _Drop as exc:
            warnings.append(f"{name} dropped: {exc}")
            continue
        accepted.append(cand)
        warnings += [f"{name}: edge to {t!r} dropped: {why}" for t, why in dropped]
    if len(data["candidates"]) > MAX_CANDIDATES:
        warnings.append(f"candidates after the first {MAX_CANDIDATES} dropped")
    return Extraction(backend, tuple(accepted), tuple(warnings))


class _Drop(Exception):
    """Why one candidate is not kept."""


def _candidate(
    item: Any,
    i: int,
    text: str,
    lines: Sequence[Line],
    earlier: Sequence[Candidate],
    targets: Collection[str],
    known: Collection[str],
    base: int,
) -> tuple[Candidate, list[tuple[str, str]]]:
    if not isinstance(item, dict):
        raise _Drop("not an object")
    key, block_type = item.get("key"), item.get("type")
    if key not in KEYS or key in {c.key for c in earlier}:
        raise _Drop(f"its key must be a new one of c1 … c{MAX_CANDIDATES}")
    if block_type not in CANDIDATE_TYPES:
        raise _Drop(f"type {block_type!r} is not one of {', '.join(CANDIDATE_TYPES)}")
    unknown = sorted(set(item) - set(keys_of(block_type)))
    if unknown:
        raise _Drop(f"unknown key {unknown[0]!r}")
    number = item.get("line")
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(lines):
        raise _Drop(f"line {number!r} is not one of the {len(lines)} numbered lines")
    title = _one_line(item.get("title"), "title", TITLE_MAX)
    line = lines[_anchor(number - 1, title, lines)]
    if block_type != "entity" and not_a_statement(line.text):
        raise _Drop(f"line {number} {not_a_statement(line.text)}, not a {block_type}")
    fields: dict[str, Any] = {}
    block_id = None
    if block_type == "entity":
        kind = item.get("kind")
        if kind not in b.ENTITY_KINDS:
            raise _Drop(f"an entity needs a kind, one of {', '.join(b.ENTITY_KINDS)} (got {kind!r})")
        if not mentions(text, title) or not_a_name(title, kind):
            raise _Drop(f"the entity {title!r} is not a name the text gives")
        # "Atlas project", "billing service": the kind is not part of the name.
        name = re.sub(r"\s+(project|service|team|repo)$", "", title, flags=re.I) if kind == "project" else title
        block_id = f"{b.ENTITY_KINDS[kind]}-{b.slugify(name)}"
    elif block_type == "task":
        fields = _task_fields(item, text)
    edges, dropped = _edges(item.get("edges") or [], earlier, targets, block_type)
    _check_block(block_type, block_id, title, fields)
    cand = Candidate(
        key=key,
        type=block_type,
        title=title,
        span=Span(base + line.start, base + line.end, line.text),
        fields=fields,
        edges=edges,
        id=block_id,
        existing=block_id is not None and block_id in known,
        confidence=CONFIDENCE,
    )
    return cand, dropped


_LIST_LINE = re.compile(r"^\W*(attendees|present|participants|people|cc|to|from|date|status)\s*:", re.I)


# Words that label parts of notes ("Attendees:", "Impact:"); small models take them for names.
LABELS = frozenset(
    ("attendees", "present", "participants", "people", "agenda", "summary", "impact", "context", "decision",
     "consequences", "status", "follow-up", "todo", "action item", "action items", "notes", "root cause")
)  # fmt: skip


def not_a_name(name: str, kind: str = "tool") -> bool:
    """Whether an entity's name cannot be one: a label, more than four words, holding : , ; or, for
    a person, project or organisation, without a capital letter ("web apps" is no project's name;
    tools may be lower-case: dbt, pnpm)."""
    if kind != "tool" and not any(c.isupper() for c in name):
        return True
    return name.strip().lower() in LABELS or len(name.split()) > 4 or any(c in name for c in ":,;")


def not_a_statement(line: str) -> str | None:
    """Why a line states no decision, task, fact or incident (it names a document or lists people),
    or None. Small models turn such lines into candidates; the rules never do."""
    if line.lstrip().startswith("#"):
        return "is a heading"
    if _LIST_LINE.match(line):
        return "is a list of names or a header field"
    if len(re.findall(r"\w+", line)) < 4:
        return "is too short to state anything"
    return None


def _anchor(named: int, title: str, lines: Sequence[Line]) -> int:
    """The line a candidate comes from: the one it names, unless another line holds clearly more of
    its title's words (small models often name the line next to the right one)."""
    words = _words(title)
    if not words:
        return named
    shares = [len(words & _words(line.text)) for line in lines]
    best = max(range(len(lines)), key=lambda i: (shares[i], -abs(i - named)))
    return best if shares[best] >= max(2, shares[named] + 2) else named


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def mentions(text: str, name: str) -> bool:
    """Whether `name` occurs in `text` as whole words (case-insensitive)."""
    return re.search(rf"(?<!\w){re.escape(name.strip())}(?!\w)", text, re.I) is not None


def _task_fields(item: dict[str, Any], text: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    assignee = item.get("assignee")
    if assignee is not None:
        name = _one_line(assignee, "assignee", NAME_MAX)
        # An assignee the text does not name is a guess: kept out rather than invented.
        if mentions(text, name):
            fields["assignee"] = f"PER-{b.slugify(name)}"
    due = item.get("due")
    if due is not None:
        try:
            date.fromisoformat(str(due))
        except ValueError:
            raise _Drop(f"due {due!r} is not a date YYYY-MM-DD") from None
        fields["due"] = due
    return fields


def _edges(
    value: Any, earlier: Sequence[Candidate], targets: Collection[str], block_type: str
) -> tuple[tuple[tuple[str, str], ...], list[tuple[str, str]]]:
    """Edges to earlier candidates or listed blocks; any other edge is dropped (and reported).
    Supersedes only replaces a listed block of the same type (an ID's prefix says its type)."""
    if not isinstance(value, list):
        raise _Drop("'edges' must be a list")
    keys = {c.key for c in earlier}
    out: list[tuple[str, str]] = []
    dropped: list[tuple[str, str]] = []
    for edge in value[:MAX_EDGES]:
        if not isinstance(edge, dict) or set(edge) != {"type", "target"} or edge["type"] not in b.EDGE_TYPES:
            dropped.append((str(edge), f"not an edge of a type in {', '.join(b.EDGE_TYPES)}"))
            continue
        target = edge["target"]
        if edge["type"] == "supersedes" and not (
            target in targets and str(target).startswith(b.TYPE_PREFIXES[block_type][0] + "-")
        ):
            dropped.append((str(target), f"only a listed {block_type} can be superseded by one"))
            continue
        if target in keys:
            resolved = f"key:{target}"
        elif target in targets:
            resolved = target
        else:
            dropped.append((str(target), "names neither an earlier candidate nor a listed block"))
            continue
        if (edge["type"], resolved) not in out:
            out.append((edge["type"], resolved))
    return tuple(out), dropped


def _check_block(block_type: str, block_id: str | None, title: str, fields: dict[str, Any]) -> None:
    """The block checks (title, dates) on a stand-in ID, so a kept candidate makes a valid block."""
    probe_id = block_id or f"{b.TYPE_PREFIXES[block_type][0]}-20000101-000000"
    meta = {"id": probe_id, "type": block_type, "title": title, "created": "2000-01-01", **fields}
    meta.setdefault("status", b.DEFAULT_STATUS[block_type])
    try:
        b.from_mapping(meta, "", "candidate")
    except BlockError as exc:
        raise _Drop(exc.reason) from None


def _one_line(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Drop(f"{name!r} must be a non-empty string")
    if len(value) > limit:
        raise _Drop(f"{name!r} is {len(value)} characters; the limit is {limit}")
    if any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in value):
        raise _Drop(f"{name!r} holds a control character")
    return value.strip()
