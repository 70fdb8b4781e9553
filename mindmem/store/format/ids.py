"""Block IDs: the types and their prefixes, the ID patterns, drawing a new ID, where an ID's file lives."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime

from mindmem.errors import BadInput, BadParameter

TYPE_PREFIXES: dict[str, tuple[str, ...]] = {
    "decision": ("D",),
    "fact": ("F",),
    "task": ("T",),
    "incident": ("I",),
    "note": ("N",),
    "entity": ("PER", "PRJ", "TOOL", "ORG"),
}
TYPES = tuple(TYPE_PREFIXES)
TYPE_DIRS = {
    "decision": "decisions",
    "fact": "facts",
    "task": "tasks",
    "incident": "incidents",
    "note": "notes",
    "entity": "entities",
}
# `mm new person --title Alice` is friendlier than spelling the prefix.
ENTITY_KINDS = {"person": "PER", "project": "PRJ", "tool": "TOOL", "org": "ORG"}

_HASH_ID = r"(?:D|F|T|I|N)-\d{8}-[0-9a-f]{6}"
_ENTITY_ID = r"(?:PER|PRJ|TOOL|ORG)-[a-z0-9]+(?:-[a-z0-9]+)*"
ID_PATTERN = rf"(?:{_HASH_ID}|{_ENTITY_ID})"
ID_RE = re.compile(rf"^{ID_PATTERN}$")
ID_IN_TEXT_RE = re.compile(rf"\b(?:{_HASH_ID}|{_ENTITY_ID})\b")


def check_id(block_id: str, block_type: str | None = None) -> None:
    """Raise BadInput unless `block_id` is a well-formed ID (of `block_type`, if given)."""
    if "/" in block_id or "\\" in block_id or ".." in block_id:
        raise BadInput(f"id '{block_id}' must not contain a path separator or '..'")
    if not ID_RE.match(block_id):
        raise BadInput(
            f"id '{block_id}' is not a block ID; expected PREFIX-YYYYMMDD-xxxxxx "
            "(D, F, T, I, N) or an entity slug like PER-alice"
        )
    if block_type is not None:
        prefix = block_id.split("-", 1)[0]
        if prefix not in TYPE_PREFIXES[block_type]:
            raise BadInput(
                f"id '{block_id}' has prefix {prefix} but type is {block_type} "
                f"(expected {' or '.join(TYPE_PREFIXES[block_type])})"
            )


def type_of_id(block_id: str) -> str:
    prefix = block_id.split("-", 1)[0]
    for block_type, prefixes in TYPE_PREFIXES.items():
        if prefix in prefixes:
            return block_type
    raise BadInput(f"'{block_id}' is not a block ID")


def id_relpath(block_id: str) -> str:
    """Where the block with this ID lives under the memory root (its prefix says its type)."""
    return f"{TYPE_DIRS[type_of_id(block_id)]}/{block_id}.md"


def new_id(
    block_type: str,
    *,
    title: str,
    author: str,
    when: datetime,
    taken: Callable[[str], bool],
    prefix: str | None = None,
) -> str:
    """Draw a fresh ID. Hash IDs are re-drawn if taken; an entity's slug is its identity."""
    prefix = prefix or TYPE_PREFIXES[block_type][0]
    if prefix not in TYPE_PREFIXES[block_type]:
        raise BadInput(f"prefix {prefix} does not belong to type {block_type}")
    if block_type == "entity":
        block_id = f"{prefix}-{slugify(title)}"
        if taken(block_id):
            raise BadInput(f"entity {block_id} already exists")
        return block_id
    day = when.strftime("%Y%m%d")
    seed = f"{title}\0{author}\0{when.isoformat()}\0".encode()
    for _ in range(64):
        digest = hashlib.sha256(seed + os.urandom(8)).hexdigest()[:6]
        block_id = f"{prefix}-{day}-{digest}"
        if not taken(block_id):
            return block_id
    raise BadInput("could not draw a free block ID after 64 tries")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not slug:
        raise BadParameter(f"cannot make an entity slug from {text!r}; give {{id}}")
    return slug


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def format_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
