"""The block format's public face: the `Block` dataclass, parse/render, IDs and the per-type schema.

The pieces live in `mindmem.store.format`, one module per concept; import them from here.
`parse(render(b)) == b` for every valid block, and `render(parse(text)) == text` for canonical text.
"""

from __future__ import annotations

from mindmem.store.format.ids import (
    ENTITY_KINDS,
    ID_IN_TEXT_RE,
    ID_PATTERN,
    ID_RE,
    TYPE_DIRS,
    TYPE_PREFIXES,
    TYPES,
    check_id,
    format_time,
    id_relpath,
    new_id,
    now_utc,
    slugify,
    type_of_id,
)
from mindmem.store.format.links import WIKI_LINK_RE, markdown_parser, wiki_links
from mindmem.store.format.model import Block, Citation, Constraint, block_relpath
from mindmem.store.format.parse import decode, parse, parse_value
from mindmem.store.format.render import render
from mindmem.store.format.schema import (
    CITATION_RE,
    CONSTRAINT_KEYS,
    DATE_KEYS,
    DEFAULT_STATUS,
    EDGE_TYPES,
    KEY_ATTRS,
    LIFECYCLE,
    MAX_BLOCK_BYTES,
    MAX_TITLE_CHARS,
    MODALITIES,
    REQUIRED_KEYS,
    RESERVED_KEYS,
    STATUSES,
    TASK_STATUSES,
)
from mindmem.store.format.validate import from_mapping

__all__ = [
    "CITATION_RE",
    "CONSTRAINT_KEYS",
    "DATE_KEYS",
    "DEFAULT_STATUS",
    "EDGE_TYPES",
    "ENTITY_KINDS",
    "ID_IN_TEXT_RE",
    "ID_PATTERN",
    "ID_RE",
    "KEY_ATTRS",
    "LIFECYCLE",
    "MAX_BLOCK_BYTES",
    "MAX_TITLE_CHARS",
    "MODALITIES",
    "REQUIRED_KEYS",
    "RESERVED_KEYS",
    "STATUSES",
    "TASK_STATUSES",
    "TYPES",
    "TYPE_DIRS",
    "TYPE_PREFIXES",
    "WIKI_LINK_RE",
    "Block",
    "Citation",
    "Constraint",
    "block_relpath",
    "check_id",
    "decode",
    "format_time",
    "from_mapping",
    "id_relpath",
    "markdown_parser",
    "new_id",
    "now_utc",
    "parse",
    "parse_value",
    "render",
    "slugify",
    "type_of_id",
    "wiki_links",
]
