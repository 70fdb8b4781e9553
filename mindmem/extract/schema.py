"""The reply a model gives for one chunk of text: its JSON schema, and strict validation into candidates.

The schema holds a grammar (llama-cpp) or a server's JSON-schema output (openai) to the shape;
`validate_reply` then checks everything the shape cannot say: one-line titles, dates that exist,
statuses that fit the type, edges that point at a candidate of this reply or a block in memory,
and a quoted span that is really in the input. Any violation is a BadInput naming the candidate,
before any block is built.

    {"candidates": [{"key": "c1", "type": "decision", "span": "<a sentence quoted from the text>",
                     "title": "...", "body": "...", "fields": {...}, "edges": [...], "confidence": 0.8}]}
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from mindmem import blocks as b
from mindmem.errors import BadInput, BlockError
from mindmem.extract.base import CANDIDATE_TYPES, Candidate, Extraction, Span

MAX_CANDIDATES = 24
MAX_EDGES = 8
MAX_TAGS = 8
TITLE_MAX = 160
TEXT_MAX = 200
# llama.cpp's grammar parser refuses repetitions of 2,000 or more (servers built on it too).
BODY_MAX = 1500
# Candidates are named c1, c2, ...: small models asked for "a short name" invent names they then
# misspell in edges; a fixed set the grammar offers keeps references to names that can exist.
KEYS = tuple(f"c{i}" for i in range(1, MAX_CANDIDATES + 1))
# The grammar offers these; validation accepts any number from 0 to 1 (a server may not hold to the enum).
CONFIDENCES = tuple(round(i / 10, 1) for i in range(11))
TEXT_FIELDS = ("subject", "predicate", "object")
# Few fields, on purpose: small models fill every field they are offered, and constraints
# (for the contradiction checks) are better written by a person than guessed.
FIELD_KEYS = (*TEXT_FIELDS, "status", "due", "tags")
CANDIDATE_KEYS = ("key", "type", "span", "title", "body", "fields", "edges", "confidence")
REQUIRED_KEYS = ("key", "type", "span", "title")
# Control characters a body may hold; everywhere else none at all.
_BODY_CONTROLS = {"\n", "\t"}


def reply_schema(spans: Sequence[str] | None = None, targets: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON schema of a reply. With `spans`, the quoted span must be one of them (exactly);
    an edge target is a candidate key or one of the block IDs in `targets`.

    Every property is required and optional ones are nullable, as OpenAI-style strict JSON-schema
    output demands; one variant per candidate type keeps statuses (and an entity's kind) to that type.
    Shared parts are `$defs`, so a grammar made from the schema holds each of them once.
    """
    span: dict[str, Any] = (
        {"type": "string", "enum": list(dict.fromkeys(spans))} if spans else {"type": "string", "minLength": 1}
    )
    text = {"type": "string", "minLength": 1, "maxLength": TEXT_MAX}
    key = {"type": "string", "enum": list(KEYS)}
    defs = {
        "span": span,
        "key": key,
        "text": text,
        "maybe_text": {"anyOf": [{"$ref": "#/$defs/text"}, {"type": "null"}]},
        "maybe_date": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
        "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
        "body": {"type": "string", "maxLength": BODY_MAX},
        "tags": {"type": "array", "maxItems": MAX_TAGS, "items": {"type": "string", "minLength": 1, "maxLength": 40}},
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
        "confidence": {"type": "number", "enum": list(CONFIDENCES)},
    }
    return {
        **_object(
            {
                "candidates": {
                    "type": "array",
                    "maxItems": MAX_CANDIDATES,
                    "items": {"anyOf": [_candidate_schema(t) for t in CANDIDATE_TYPES]},
                }
            }
        ),
        "$defs": defs,
    }


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def _candidate_schema(block_type: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        **{key: {"$ref": "#/$defs/maybe_text"} for key in TEXT_FIELDS},
        "status": {"anyOf": [{"type": "string", "enum": list(b.STATUSES[block_type])}, {"type": "null"}]},
        "due": {"$ref": "#/$defs/maybe_date"},
        "tags": {"$ref": "#/$defs/tags"},
    }
    if block_type == "entity":
        fields["kind"] = {"type": "string", "enum": list(b.ENTITY_KINDS)}
    return _object(
        {
            "key": {"$ref": "#/$defs/key"},
            "type": {"type": "string", "enum": [block_type]},
            "span": {"$ref": "#/$defs/span"},
            "title": {"$ref": "#/$defs/title"},
            "body": {"$ref": "#/$defs/body"},
            "fields": _object(fields),
            "edges": {"$ref": "#/$defs/edges"},
            "confidence": {"$ref": "#/$defs/confidence"},
        }
    )


def validate_reply(
    data: Any,
    text: str,
    *,
    known: Collection[str] = frozenset(),
    base: int = 0,
    backend: str = "model",
) -> Extraction:
    """Check a parsed reply against `text` (the chunk it answers) and build the candidates.

    `known` holds the block IDs already in memory: an edge may point at one of them, and an
    entity already there is marked `existing`. Span offsets are shifted by `base`, the chunk's
    start in the whole input. Missing optional keys count as null; unknown keys are errors.
    """
    if not isinstance(data, dict) or set(data) != {"candidates"}:
        raise BadInput('model reply must be a JSON object with exactly one key, "candidates"')
    items = data["candidates"]
    if not isinstance(items, list):
        raise BadInput('model reply: "candidates" must be a list')
    if len(items) > MAX_CANDIDATES:
        raise BadInput(f"model reply has {len(items)} candidates; at most {MAX_CANDIDATES} are allowed per chunk")
    keys: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadInput(f"model reply: candidates[{i}] must be an object")
        key = item.get("key")
        if key not in KEYS:
            raise BadInput(f"model reply: candidates[{i}] key {key!r} is not one of c1, c2, ... c{MAX_CANDIDATES}")
        if key in keys:
            raise BadInput(f"model reply: candidates[{i}] repeats key '{key}'")
        keys.append(key)
    return Extraction(backend, tuple(_candidate(item, i, text, keys, known, base) for i, item in enumerate(items)))


def _candidate(
    item: dict[str, Any], i: int, text: str, keys: Sequence[str], known: Collection[str], base: int
) -> Candidate:
    key = item["key"]

    def bad(message: str) -> BadInput:
        return BadInput(f"model reply: candidate '{key}' (candidates[{i}]): {message}")

    unknown = sorted(set(item) - set(CANDIDATE_KEYS))
    if unknown:
        raise bad(f"unknown key '{unknown[0]}'")
    for name in REQUIRED_KEYS:
        if item.get(name) is None:
            raise bad(f"'{name}' is missing")
    block_type = item["type"]
    if block_type not in CANDIDATE_TYPES:
        raise bad(f"type {block_type!r} is not one of {', '.join(CANDIDATE_TYPES)}")
    title = _string(item["title"], "title", TITLE_MAX, bad).strip()
    if not title:
        raise bad("'title' is empty")
    body = _string(item.get("body") or "", "body", BODY_MAX, bad, allow=_BODY_CONTROLS)
    span_text = _string(item["span"], "span", len(text), bad, allow=_BODY_CONTROLS)
    start = text.find(span_text) if span_text.strip() else -1
    if start < 0:
        raise bad(f"span {_excerpt(span_text)} is not quoted from the input text")
    confidence = item.get("confidence", 0.5)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise bad(f"confidence {confidence!r} must be a number from 0 to 1")

    fields, kind = _fields(item.get("fields") or {}, block_type, bad)
    block_id = None
    if block_type == "entity":
        try:
            block_id = f"{b.ENTITY_KINDS[kind]}-{b.slugify(title)}"
        except BadInput as exc:
            raise bad(str(exc)) from None
    edges = _edges(item.get("edges") or [], key, keys, known, bad)
    # The block checks (dates that exist, statuses, tags) on a stand-in ID and date.
    probe_id = block_id or f"{b.TYPE_PREFIXES[block_type][0]}-20000101-000000"
    meta = {"id": probe_id, "type": block_type, "title": title, "created": "2000-01-01", **fields}
    meta.setdefault("status", b.DEFAULT_STATUS[block_type])
    try:
        b.from_mapping(meta, body, f"candidate '{key}'")
    except BlockError as exc:
        raise bad(exc.reason) from None
    return Candidate(
        key=key,
        type=block_type,
        title=title,
        span=Span(base + start, base + start + len(span_text), span_text),
        body=body.strip(),
        fields=fields,
        edges=edges,
        id=block_id,
        existing=block_id is not None and block_id in known,
        confidence=float(confidence),
    )


def _fields(value: Any, block_type: str, bad: Any) -> tuple[dict[str, Any], str | None]:
    """The non-null fields, checked for shape; the block checks come after. Also an entity's kind."""
    if not isinstance(value, dict):
        raise bad("'fields' must be an object")
    allowed = (*FIELD_KEYS, "kind") if block_type == "entity" else FIELD_KEYS
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise bad(
            f"fields has unknown key '{unknown[0]}'" + (" (only entities have a kind)" if "kind" in unknown else "")
        )
    out: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if value.get(name) is not None:
            out[name] = _string(value[name], f"fields.{name}", TEXT_MAX, bad)
    if value.get("status") is not None:
        out["status"] = value["status"]
    if value.get("due") is not None:
        out["due"] = value["due"]
    tags = value.get("tags") or []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise bad(f"fields.tags must be a list of at most {MAX_TAGS} strings")
    if tags:
        out["tags"] = [_string(tag, "a tag", 40, bad) for tag in tags]
    kind = value.get("kind")
    if block_type == "entity" and kind not in b.ENTITY_KINDS:
        raise bad(f"an entity needs fields.kind, one of {', '.join(b.ENTITY_KINDS)} (got {kind!r})")
    return out, kind


def _edges(value: Any, key: str, keys: Sequence[str], known: Collection[str], bad: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or len(value) > MAX_EDGES:
        raise bad(f"'edges' must be a list of at most {MAX_EDGES} edges")
    out: list[tuple[str, str]] = []
    for edge in value:
        if not isinstance(edge, dict) or set(edge) != {"type", "target"}:
            raise bad('each edge must be an object with exactly "type" and "target"')
        edge_type, target = edge["type"], edge["target"]
        if edge_type not in b.EDGE_TYPES:
            raise bad(f"edge type {edge_type!r} is not one of {', '.join(b.EDGE_TYPES)}")
        if not isinstance(target, str):
            raise bad(f"edge target {target!r} must be a string")
        if target == key:
            continue  # says nothing; to_blocks would drop it too
        if target in keys:
            resolved = f"key:{target}"
        elif b.ID_RE.match(target):
            if target not in known:
                raise bad(f"edge target {target} is not a block in memory")
            resolved = target
        else:
            missing = (
                "names no candidate of this reply" if target in KEYS else "is neither a candidate key nor a block ID"
            )
            raise bad(f"edge target {target!r} {missing}")
        if (edge_type, resolved) not in out:
            out.append((edge_type, resolved))
    return tuple(out)


def _string(value: Any, name: str, limit: int, bad: Any, allow: Collection[str] = ()) -> str:
    if not isinstance(value, str):
        raise bad(f"'{name}' must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise bad(f"'{name}' is {len(value)} characters; the limit is {limit}")
    control = next((ch for ch in value if (ch < " " or "\x7f" <= ch <= "\x9f") and ch not in allow), None)
    if control is not None:
        raise bad(f"'{name}' holds the control character {control!r}")
    return value


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= 60 else flat[:57] + "...")
