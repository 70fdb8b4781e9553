"""What a block may hold: statuses per type, edge types, frontmatter keys in canonical order, limits."""

from __future__ import annotations

import re

from mindmem.store.format.ids import TYPES

# Limits that keep any input cheap to judge and plain to read (see docs/block-format.md).
MAX_BLOCK_BYTES = 1024 * 1024
MAX_TITLE_CHARS = 300

LIFECYCLE = ("active", "superseded", "revoked")
TASK_STATUSES = ("todo", "doing", "blocked", "done", "canceled")
STATUSES = {t: (TASK_STATUSES if t == "task" else LIFECYCLE) for t in TYPES}
DEFAULT_STATUS = {t: STATUSES[t][0] for t in TYPES}

EDGE_TYPES = (
    "cites",
    "derived_from",
    "depends_on",
    "tested_by",
    "supersedes",
    "contradicts",
    "relates_to",
)
MODALITIES = ("must", "must_not", "should", "should_not", "may")

CITATION_RE = re.compile(r"^(?P<path>[^@#\s]+)@(?P<sha>[0-9a-f]{4,40})(?:#L(?P<start>\d+)(?:-L(?P<end>\d+))?)?$")

# Frontmatter keys in canonical order, with the attribute each maps to.
KEY_ATTRS = {
    "id": "id",
    "type": "type",
    "title": "title",
    "status": "status",
    "created": "created",
    "author": "author",
    "subject": "subject",
    "predicate": "predicate",
    "object": "obj",
    "constraint": "constraint",
    "tags": "tags",
    "aliases": "aliases",
    "edges": "edges",
    "citations": "citations",
    "valid_from": "valid_from",
    "valid_to": "valid_to",
    "expires": "expires",
    "due": "due",
}
REQUIRED_KEYS = ("id", "type", "title", "status", "created")
# Keys whose value is one string, and keys whose value is a list of strings.
STRING_KEYS = ("id", "type", "title", "status", "created", "author", "subject", "predicate", "object")
LIST_KEYS = ("tags", "aliases", "citations")
# JSON output puts these beside the frontmatter keys (`mm show --json`), so a block may not use them.
RESERVED_KEYS = ("body", "path", "commit")
DATE_KEYS = ("valid_from", "valid_to", "expires", "due")
CONSTRAINT_KEYS = ("axis", "scope", "modality", "object", "predicate")
