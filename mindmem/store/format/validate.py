"""From a frontmatter mapping to a `Block`: every rule of the schema, each failure naming the key's line."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import partial
from typing import Any

from mindmem.errors import BadInput, BlockError
from mindmem.store.format import dialect
from mindmem.store.format.dialect import short
from mindmem.store.format.ids import ID_RE, TYPE_PREFIXES, TYPES, check_id
from mindmem.store.format.model import Block, Constraint
from mindmem.store.format.schema import (
    CITATION_RE,
    CONSTRAINT_KEYS,
    DATE_KEYS,
    EDGE_TYPES,
    KEY_ATTRS,
    LIST_KEYS,
    MAX_TITLE_CHARS,
    MODALITIES,
    REQUIRED_KEYS,
    RESERVED_KEYS,
    STATUSES,
    STRING_KEYS,
)

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# (key, message) -> the BlockError that names the file and the key's line.
Fail = Callable[[str, str], BlockError]


def from_mapping(meta: Mapping[str, Any], body: str, path: str, *, _fm_text: str | None = None) -> Block:
    """Validate a frontmatter mapping and build the Block. The only way blocks are made.

    The body loses leading and trailing blank lines, as the canonical text has none.
    """
    fail: Fail = partial(_fail, path, _fm_text)
    _check_keys(meta, fail)
    values = _strings(meta, fail)
    _check_identity(values, fail)
    values.update(_lists(meta, fail))
    values.update(_dates(meta, fail))
    values.update(_structured(meta, values["id"], fail))
    if "\0" in body:
        raise BlockError(path, "the body holds a NUL character; a block is text")
    values["extra"] = _extra(meta, fail)
    return Block(body=body.strip("\n"), **values)


def _fail(path: str, fm_text: str | None, key: str, message: str) -> BlockError:
    return BlockError(path, message, _key_line(fm_text, key))


def _check_keys(meta: Mapping[str, Any], fail: Fail) -> None:
    for key in meta:
        if not isinstance(key, str):
            raise fail(str(key), f"frontmatter key {key!r} must be a string")
        if key in RESERVED_KEYS:
            raise fail(key, f"key '{key}' is reserved (mm uses it in JSON output); rename it")
    for key in REQUIRED_KEYS:
        if meta.get(key) in (None, ""):
            raise fail(key, f"missing required field '{key}'")


def _strings(meta: Mapping[str, Any], fail: Fail) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in STRING_KEYS:
        if key in meta and meta[key] is not None:
            if not isinstance(meta[key], str):
                raise fail(key, f"field '{key}' must be a string, not {_kind(meta[key])}")
            values[KEY_ATTRS[key]] = meta[key]
    return values


def _check_identity(values: Mapping[str, Any], fail: Fail) -> None:
    """Type, ID, title, status and creation time: what every block must get right."""
    block_type = values["type"]
    if block_type not in TYPE_PREFIXES:
        raise fail("type", f"unknown type '{block_type}'; expected one of {', '.join(TYPES)}")
    try:
        check_id(values["id"], block_type)
    except BadInput as exc:
        raise fail("id", str(exc)) from None
    problem = _title_problem(values["title"])
    if problem:
        raise fail("title", problem)
    if values["status"] not in STATUSES[block_type]:
        allowed = ", ".join(STATUSES[block_type])
        raise fail("status", f"status '{values['status']}' is not valid for a {block_type}; expected one of {allowed}")
    if not _is_datetime(values["created"]):
        raise fail("created", f"field 'created' must be an ISO 8601 date or time, not '{values['created']}'")


def _lists(meta: Mapping[str, Any], fail: Fail) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in LIST_KEYS:
        if key in meta and meta[key] is not None:
            items = meta[key]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise fail(key, f"field '{key}' must be a list of strings")
            values[key] = tuple(items)
    for citation in values.get("citations", ()):
        problem = _citation_problem(citation)
        if problem:
            raise fail("citations", problem)
    return values


def _dates(meta: Mapping[str, Any], fail: Fail) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in DATE_KEYS:
        if key in meta and meta[key] is not None:
            if not isinstance(meta[key], str) or not _is_date(meta[key]):
                raise fail(key, f"field '{key}' must be a date YYYY-MM-DD, not {meta[key]!r}")
            values[key] = meta[key]
    return values


def _structured(meta: Mapping[str, Any], own_id: str, fail: Fail) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if meta.get("constraint") is not None:
        try:
            values["constraint"] = _constraint(meta["constraint"])
        except ValueError as exc:
            raise fail("constraint", str(exc)) from None
    if meta.get("edges") is not None:
        try:
            values["edges"] = _edges(meta["edges"], own_id)
        except ValueError as exc:
            raise fail("edges", str(exc)) from None
    return values


def _extra(meta: Mapping[str, Any], fail: Fail) -> tuple[tuple[str, Any], ...]:
    extra = tuple((k, v) for k, v in meta.items() if k not in KEY_ATTRS)
    for key, value in extra:
        problem = _not_plain(value, set())
        if problem:
            raise fail(key, f"field '{key}' holds {problem}; use strings, numbers, booleans, lists and mappings")
    return extra


def _constraint(value: Any) -> Constraint:
    if not isinstance(value, dict):
        raise ValueError("field 'constraint' must be a mapping {axis, scope, modality, object}")
    unknown = set(value) - set(CONSTRAINT_KEYS)
    if unknown:
        raise ValueError(f"constraint has unknown keys: {', '.join(sorted(map(str, unknown)))}")
    for key in CONSTRAINT_KEYS[:4]:
        if not isinstance(value.get(key), str) or not value[key]:
            raise ValueError(f"constraint needs '{key}' as a string")
    if value.get("predicate") is not None and not isinstance(value["predicate"], str):
        raise ValueError("constraint 'predicate' must be a string")
    if value["modality"] not in MODALITIES:
        raise ValueError(f"constraint modality '{value['modality']}' is not one of {', '.join(MODALITIES)}")
    return Constraint(value["axis"], value["scope"], value["modality"], value["object"], value.get("predicate"))


def _edges(value: Any, own_id: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ValueError("field 'edges' must be a mapping of edge type to a list of IDs")
    unknown = [k for k in value if k not in EDGE_TYPES]
    if unknown:
        raise ValueError(f"unknown edge type '{unknown[0]}'; expected one of {', '.join(EDGE_TYPES)}")
    out = []
    for edge_type in EDGE_TYPES:
        targets = value.get(edge_type)
        if targets is None:
            continue
        if not isinstance(targets, list):
            raise ValueError(f"edges.{edge_type} must be a list of block IDs, like [{short(str(targets), 30)}]")
        for target in targets:
            if not isinstance(target, str) or not ID_RE.match(target):
                raise ValueError(f"edges.{edge_type} points at {target!r}, which is not a block ID")
            if target == own_id:
                raise ValueError(f"edges.{edge_type} points at the block itself")
        if len(set(targets)) != len(targets):
            raise ValueError(f"edges.{edge_type} lists the same ID twice")
        if targets:
            out.append((edge_type, tuple(targets)))
    return tuple(out)


def _title_problem(title: str) -> str | None:
    if len(title) > MAX_TITLE_CHARS:
        return f"field 'title' is {len(title)} characters; the limit is {MAX_TITLE_CHARS} (put the rest in the body)"
    if title.splitlines() != [title]:
        return "field 'title' must be one line"
    control = next((ch for ch in title if unicodedata.category(ch) == "Cc"), None)
    if control is not None:
        return f"field 'title' holds the control character U+{ord(control):04X}; retype it"
    return None


def _citation_problem(text: str) -> str | None:
    m = CITATION_RE.match(text)
    if not m:
        return f"citation '{short(text)}' must look like path@sha or path@sha#L10-L42"
    path = m["path"]
    if path.startswith("/") or "\\" in path or ".." in path.split("/"):
        return f"citation '{short(text)}' must name a path inside the repository (no leading '/', no '..')"
    return None


def _is_date(text: str) -> bool:
    # `date.fromisoformat` also takes 20261125 and 2026-W48-3; the format promises YYYY-MM-DD only.
    if not _DATE_RE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_datetime(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _not_plain(value: Any, seen: set[int]) -> str | None:
    """What in an unknown key's value cannot survive a rewrite or JSON output (None when all is plain)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return None
    if not isinstance(value, (list, dict)):
        return f"a YAML {type(value).__name__} value"
    if id(value) in seen:
        return "a value that contains itself (a YAML alias loop)"
    seen = seen | {id(value)}
    if isinstance(value, dict):
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, int, float, bool))):
                return f"a mapping key of type {type(key).__name__}"
            problem = _not_plain(item, seen)
            if problem:
                return problem
        return None
    for item in value:
        problem = _not_plain(item, seen)
        if problem:
            return problem
    return None


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _key_line(fm_text: str | None, key: str) -> int | None:
    """1-based file line of a top-level frontmatter key; only computed when reporting an error."""
    if fm_text is None:
        return None
    import yaml  # only for an error message; reading canonical blocks does not load PyYAML

    try:
        node = yaml.compose(fm_text, Loader=dialect.loader())
    except yaml.YAMLError:
        return None
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if key_node.value == key:
                return key_node.start_mark.line + 1
    return None
