"""Blocks from a mind-mem workspace: `[ID]` headers followed by `Key: value` lines.

    [D-20260215-001]
    Date: 2026-02-15
    Status: active
    Statement: Use BM25F as the default recall backend.
    Rationale: Zero external dependencies, deterministic results.
    Tags: recall, search
    Supersedes: D-20260101-003

Decisions, tasks, signals, incidents and entities map to mindmem blocks. IDs are
re-drawn in mindmem's format from the original ID (so the same source always gives
the same block), and the original ID is kept in the `imported_from` field.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mindmem.errors import BadInput
from mindmem.imports.common import Imported, title_from
from mindmem.store import blocks as b

_HEADER = re.compile(r"^\[(?P<id>[A-Za-z]+-[A-Za-z0-9_.-]+)\]\s*$")
_FIELD = re.compile(r"^(?P<key>[A-Za-z][A-Za-z ]{0,40}):\s*(?P<value>.*)$")
_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_SLUG_ID = re.compile(r"^(PER|PRJ|TOOL|ORG)-[a-z0-9-]+$", re.I)

# mind-mem ID prefix -> mindmem type
PREFIX_TYPES = {
    "D": "decision", "DEC": "decision", "T": "task", "TASK": "task", "SIG": "note", "MEM": "note",
    "I": "incident", "INC": "incident", "F": "fact", "FACT": "fact", "N": "note",
    "PER": "entity", "PRJ": "entity", "TOOL": "entity", "ORG": "entity", "ENT": "entity",
}  # fmt: skip
TYPE_FIELD = {"decision": "decision", "task": "task", "entity": "entity", "memory": "note", "signal": "note",
              "summary": "note", "incident": "incident", "fact": "fact", "note": "note"}  # fmt: skip
STATUS = {
    "active": "active", "accepted": "active", "wip": "doing", "superseded": "superseded",
    "revoked": "revoked", "archived": "revoked", "deprecated": "superseded", "rejected": "revoked",
    "todo": "todo", "doing": "doing", "in progress": "doing", "blocked": "blocked", "done": "done",
    "canceled": "canceled", "cancelled": "canceled",
}  # fmt: skip
EDGE_FIELDS = {"supersedes": "supersedes", "references": "relates_to", "sources": "cites",
               "dependencies": "depends_on", "alignswith": "relates_to", "contradicts": "contradicts"}  # fmt: skip
BODY_FIELDS = ("Statement", "Rationale", "Context", "Next", "Justification", "Role", "History", "Impact")


@dataclass(frozen=True)
class _Raw:
    id: str
    fields: dict[str, str]
    path: str
    line: int


def read_workspace(root: Path) -> list[Imported]:
    """Every block of a mind-mem workspace (all Markdown files below `root`), mapped to mindmem."""
    if not root.is_dir():
        raise BadInput(f"{root}: not a folder (expected a mind-mem workspace)")
    raws = [raw for path in sorted(root.rglob("*.md")) for raw in _blocks(path, root)]
    if not raws:
        raise BadInput(f"{root}: no mind-mem blocks found ([ID] headers with Key: value lines)")
    ids = {raw.id: _new_id(raw) for raw in raws}
    return [_convert(raw, ids) for raw in raws]


def _blocks(path: Path, root: Path) -> Iterator[_Raw]:
    current: _Raw | None = None
    key = None
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        header = _HEADER.match(line.strip())
        if header:
            if current:
                yield current
            current = _Raw(header.group("id"), {}, path.relative_to(root).as_posix(), number)
            key = None
            continue
        if current is None:
            continue
        field = _FIELD.match(line.strip())
        if field and not line.startswith((" ", "\t")):
            key = field.group("key").strip()
            current.fields[key] = field.group("value").strip()
        elif line.strip() == "---" or (not line.strip() and key is None):
            continue
        elif key and line.strip():
            current.fields[key] += "\n" + line.strip()  # a continued value
    if current:
        yield current


def _type(raw: _Raw) -> str:
    declared = raw.fields.get("Type", "").strip().lower()
    if declared in TYPE_FIELD:
        return TYPE_FIELD[declared]
    prefix = raw.id.split("-", 1)[0].upper()
    if prefix not in PREFIX_TYPES:
        raise BadInput(f"{raw.path}:{raw.line}: cannot tell the type of [{raw.id}] (unknown prefix {prefix})")
    return PREFIX_TYPES[prefix]


def _new_id(raw: _Raw) -> str:
    block_type = _type(raw)
    if block_type == "entity":
        if _SLUG_ID.match(raw.id):
            prefix, slug = raw.id.split("-", 1)
            return f"{prefix.upper()}-{b.slugify(slug)}"
        return f"PER-{b.slugify(raw.fields.get('Name') or raw.id)}"
    day = _day(raw) or "19700101"
    digest = hashlib.sha256(f"mind-mem:{raw.id}".encode()).hexdigest()[:6]
    return f"{b.TYPE_PREFIXES[block_type][0]}-{day}-{digest}"


def _day(raw: _Raw) -> str | None:
    for text in (raw.fields.get("Date", ""), raw.id):
        m = _DATE.search(text)
        if m:
            return "".join(m.groups())
    return None


def _convert(raw: _Raw, ids: dict[str, str]) -> Imported:
    block_type = _type(raw)
    f = raw.fields
    day = _day(raw)
    statement = f.get("Statement") or f.get("Title") or f.get("Name") or raw.id
    meta: dict[str, Any] = {
        "id": ids[raw.id],
        "type": block_type,
        "title": title_from(f.get("Title") or f.get("Name") or statement),
        "status": _status(f.get("Status"), block_type),
        "created": f"{day[:4]}-{day[4:6]}-{day[6:]}T00:00:00Z" if day else "1970-01-01T00:00:00Z",
        "imported_from": f"mind-mem:{raw.id}",
    }
    if f.get("Speaker") or f.get("Owner"):
        meta["author"] = f.get("Speaker") or f.get("Owner")
    tags = [t.strip() for t in re.split(r"[,\s]+", f.get("Tags", "")) if t.strip()]
    if tags:
        meta["tags"] = tags
    scope = f.get("Scope", "") or f.get("Project", "")
    project = re.match(r"^(?:project:)?([a-z0-9][a-z0-9-]*)$", scope.strip().lower())
    if project and scope.strip().lower() not in ("global", "none", "-"):
        meta["subject"] = f"PRJ-{project.group(1)}"
    if day and block_type in ("decision", "fact", "incident"):
        meta["valid_from"] = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    if block_type == "task" and _DATE.search(f.get("Due", "")):
        meta["due"] = "-".join(_DATE.search(f["Due"]).groups())  # type: ignore[union-attr]
    edges: dict[str, list[str]] = {}
    for key, value in f.items():
        edge_type = EDGE_FIELDS.get(key.lower().replace(" ", ""))
        if not edge_type:
            continue
        for ref in re.findall(r"\b[A-Za-z]+-[A-Za-z0-9_.-]+\b", value):
            target = ids.get(ref)
            if target and target != meta["id"] and target not in edges.setdefault(edge_type, []):
                edges[edge_type].append(target)
    if any(edges.values()):
        meta["edges"] = {k: v for k, v in edges.items() if v}
    body = "\n\n".join(f"**{name}:** {f[name]}" for name in BODY_FIELDS if f.get(name))
    return Imported(meta, body, f"{raw.path}:{raw.line}")


def _status(value: str | None, block_type: str) -> str:
    mapped = STATUS.get((value or "").strip().lower())
    if mapped is None or mapped not in b.STATUSES[block_type]:
        return b.DEFAULT_STATUS[block_type] if mapped in (None, "active") else _closest(mapped, block_type)
    return mapped


def _closest(status: str, block_type: str) -> str:
    """Task statuses for lifecycle blocks and back: done -> superseded, doing -> active, …"""
    if block_type == "task":
        return {"active": "todo", "superseded": "done", "revoked": "canceled"}.get(status, "todo")
    return {"done": "superseded", "canceled": "revoked"}.get(status, "active")
