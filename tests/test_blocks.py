"""The block format: canonical round trips (property-based), schema errors, IDs and wiki links."""

from __future__ import annotations

import string
import unicodedata
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mindmem.errors import BadInput, BlockError
from mindmem.store import blocks as b
from mindmem.store.blocks import Block, Constraint, parse, render

# -- strategies ---------------------------------------------------------------

# Any Unicode text a person could type, except NUL (a block with NUL is a binary file).
free_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40)
one_line = free_text.filter(lambda t: t != "" and t.splitlines() == [t])
# Titles are also short and free of control characters (a terminal escape in a title is refused).
title_text = one_line.filter(lambda t: not any(unicodedata.category(c) == "Cc" for c in t))
slug = st.from_regex(r"\A[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}\Z")
hex6 = st.text("0123456789abcdef", min_size=6, max_size=6)
day = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def block_id(draw: st.DrawFn, block_type: str | None = None) -> str:
    block_type = block_type or draw(st.sampled_from(b.TYPES))
    prefix = draw(st.sampled_from(b.TYPE_PREFIXES[block_type]))
    if block_type == "entity":
        return f"{prefix}-{draw(slug)}"
    return f"{prefix}-{draw(day).strftime('%Y%m%d')}-{draw(hex6)}"


created = st.one_of(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
        b.format_time
    ),
    day.map(date.isoformat),
)
optional_text = st.none() | free_text
constraint = st.builds(
    Constraint,
    axis=one_line,
    scope=one_line,
    modality=st.sampled_from(b.MODALITIES),
    obj=one_line,
    predicate=st.none() | one_line,
)
citation = st.builds(
    lambda path, sha, lines: f"{path}@{sha}{lines}",
    st.from_regex(r"\A[a-z_]{1,8}(/[a-z_.]{1,8}){0,2}\Z").filter(lambda p: ".." not in p.split("/")),
    st.text("0123456789abcdef", min_size=7, max_size=40),
    st.sampled_from(["", "#L3", "#L10-L42"]),
)
# Unknown keys a person may add: plain YAML data, nested.
scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | free_text
plain_value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(free_text, inner, max_size=3),
    max_leaves=8,
)
extra_key = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12).filter(
    lambda k: k not in b.KEY_ATTRS and k not in b.RESERVED_KEYS
)
# CR is read as part of a line break (CRLF is LF, see the decoding rule), so bodies here have none.
body = free_text.map(lambda t: t.replace("\r", "").strip("\n")) | st.just(
    "## Context\n\nSee [[F-20261120-aa10f3]].\n\n```\ncode\n```"
)


@st.composite
def blocks(draw: st.DrawFn) -> Block:
    block_type = draw(st.sampled_from(b.TYPES))
    own = draw(block_id(block_type))
    edges = []
    for edge_type in b.EDGE_TYPES:
        targets = draw(st.lists(block_id().filter(lambda t: t != own), max_size=3, unique=True))
        if targets:
            edges.append((edge_type, tuple(targets)))
    return Block(
        id=own,
        type=block_type,
        title=draw(title_text),
        status=draw(st.sampled_from(b.STATUSES[block_type])),
        created=draw(created),
        author=draw(optional_text),
        subject=draw(st.none() | block_id()),
        predicate=draw(optional_text),
        obj=draw(optional_text),
        constraint=draw(st.none() | constraint),
        tags=tuple(draw(st.lists(free_text, max_size=3))),
        aliases=tuple(draw(st.lists(one_line, max_size=2))),
        edges=tuple(edges),
        citations=tuple(draw(st.lists(citation, max_size=2))),
        valid_from=draw(st.none() | day.map(date.isoformat)),
        valid_to=draw(st.none() | day.map(date.isoformat)),
        expires=draw(st.none() | day.map(date.isoformat)),
        due=draw(st.none() | day.map(date.isoformat)),
        body=draw(body),
        extra=tuple(draw(st.dictionaries(extra_key, plain_value, max_size=3)).items()),
    )


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- round trips -----------------------------------------------------------------


@PROPERTY
@given(blocks())
def test_parse_of_render_gives_the_block_back(block: Block) -> None:
    assert parse(render(block), "x.md") == block


@PROPERTY
@given(blocks())
def test_rendering_canonical_text_gives_the_same_bytes(block: Block) -> None:
    text = render(block)
    assert render(parse(text, "x.md")) == text
    assert render(parse(text.encode(), "x.md")).encode() == text.encode()


@PROPERTY
@given(blocks())
def test_json_form_holds_every_field(block: Block) -> None:
    data = block.to_json()
    meta = {k: v for k, v in data.items() if k != "body"}
    assert b.from_mapping(meta, data["body"], "x.md") == block


DESIGN_EXAMPLE = """\
---
id: D-20261125-7f3a9c
type: decision
title: Store billing events in PostgreSQL
status: active
created: 2026-11-25T11:50:00Z
author: alice
subject: PRJ-billing
constraint:
  axis: storage.engine
  scope: PRJ-billing
  modality: must
  object: postgresql
tags:
  - storage
  - billing
edges:
  cites:
    - F-20261120-aa10f3
  supersedes:
    - D-20260301-01bc22
citations:
  - src/billing/store.py@3f2a1c9#L10-L42
valid_from: 2026-11-25
expires: 2027-05-25
reviewers:
  - bob
  - carol
x-review:
  board: arch
  votes:
    for: 3
    against: 0
  notes:
    - first
    - second: 2
    - - nested
      - list
---
We move the event store to PostgreSQL because it already runs there (may use
[[F-20261120-aa10f3]] wiki links, which count as `relates_to`).
"""


def test_canonical_example_round_trips_byte_for_byte() -> None:
    block = parse(DESIGN_EXAMPLE, "d.md")
    assert render(block) == DESIGN_EXAMPLE
    assert block.constraint == Constraint("storage.engine", "PRJ-billing", "must", "postgresql")
    assert block.targets("supersedes") == ("D-20260301-01bc22",)
    assert block.extra[0] == ("reviewers", ["bob", "carol"])
    assert block.extra[1][1]["votes"] == {"for": 3, "against": 0}
    assert block.parsed_citations() == (b.Citation("src/billing/store.py", "3f2a1c9", 10, 42),)
    assert list(block.all_edges()) == [
        ("cites", "F-20261120-aa10f3"),
        ("supersedes", "D-20260301-01bc22"),
        ("relates_to", "F-20261120-aa10f3"),
    ]


def test_canonical_form_fixes_key_order_and_keeps_unknown_keys_in_place_order() -> None:
    messy = """---
zeta: {b: 1, a: [2, 3]}
title:   Deploy path
created: 2026-01-02
edges:
  relates_to:
    - PRJ-billing
  cites: [F-20261120-aa10f3]
type: fact
alpha: kept
id: F-20260102-00aa11
status: active
tags: []
---


Deploys go through staging.


"""
    block = parse(messy, "f.md")
    text = render(block)
    assert text == (
        "---\n"
        "id: F-20260102-00aa11\n"
        "type: fact\n"
        "title: Deploy path\n"
        "status: active\n"
        "created: 2026-01-02\n"
        "edges:\n"
        "  cites:\n"
        "    - F-20261120-aa10f3\n"
        "  relates_to:\n"
        "    - PRJ-billing\n"
        "zeta:\n"
        "  b: 1\n"
        "  a:\n"
        "    - 2\n"
        "    - 3\n"
        "alpha: kept\n"
        "---\n"
        "Deploys go through staging.\n"
    )
    assert parse(text, "f.md") == block


def test_body_keeps_leading_whitespace_and_crlf_files_parse() -> None:
    text = "---\nid: N-20260101-abcdef\ntype: note\ntitle: t\nstatus: active\ncreated: 2026-01-01\n---\n    code\nx\n"
    assert parse(text, "n.md").body == "    code\nx"
    assert render(parse(text, "n.md")) == text
    crlf = text.replace("\n", "\r\n")
    assert parse(crlf, "n.md").title == "t"


def test_a_byte_order_mark_is_ignored() -> None:
    text = render(parse(DESIGN_EXAMPLE, "d.md"))
    assert parse(b"\xef\xbb\xbf" + text.encode(), "d.md") == parse(text, "d.md")


# -- schema errors ---------------------------------------------------------------

GOOD = {
    "id": "T-20261125-0a1b2c",
    "type": "task",
    "title": "Ship it",
    "status": "todo",
    "created": "2026-11-25T10:00:00Z",
}


def with_field(key: str, value: str | None) -> str:
    lines = [f"{k}: {v}" for k, v in GOOD.items() if k != key]
    if value is not None:
        lines.append(f"{key}: {value}")
    return "---\n" + "\n".join(lines) + "\n---\nbody\n"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("---\nid: [unclosed\n---\n", "invalid YAML", 3),
        ("---\nid: x\n  bad: indent\n---\n", "invalid YAML", 3),
        ("---\ntitle: 'open quote\n---\n", "invalid YAML", 3),
        ("no frontmatter\n", "missing YAML frontmatter", 1),
        ("---\nid: x\n", "not closed", 1),
        ("---\n- a list\n---\n", "must be a YAML mapping", 2),
        (with_field("title", None), "missing required field 'title'", None),
        (with_field("created", None), "missing required field 'created'", None),
        (with_field("title", "''"), "missing required field 'title'", 6),
        (with_field("title", "[a, b]"), "field 'title' must be a string, not a list", 6),
        (with_field("status", "yes"), "field 'status' must be a string, not a boolean", 6),
        (with_field("id", "7"), "field 'id' must be a string, not a number", 6),
        (with_field("tags", "billing"), "field 'tags' must be a list of strings", 7),
        (with_field("tags", "[1, 2]"), "field 'tags' must be a list of strings", 7),
        (with_field("status", "active"), "status 'active' is not valid for a task", 6),
        (with_field("type", "essay"), "unknown type 'essay'", 6),
        (with_field("id", "D-20261125-0a1b2c"), "has prefix D but type is task", 6),
        (with_field("id", "T-2026-0a1b2c"), "is not a block ID", 6),
        (with_field("id", "T-20261125-0a1b2c/x"), "must not contain a path separator", 6),
        (with_field("id", "../T-20261125-0a1b2c"), "must not contain a path separator or '..'", 6),
        (with_field("id", "'T\\\\x'"), "must not contain a path separator", 6),
        (with_field("created", "yesterday"), "field 'created' must be an ISO 8601", 6),
        (with_field("due", "2026-13-01"), "field 'due' must be a date YYYY-MM-DD", 7),
        (with_field("due", "'20261125'"), "field 'due' must be a date YYYY-MM-DD", 7),
        (with_field("citations", "[src/a.py]"), "citation 'src/a.py' must look like path@sha", 7),
        (with_field("edges", "{cites: [not-an-id]}"), "points at 'not-an-id', which is not a block ID", 7),
        (with_field("edges", "{cites: [../etc/passwd]}"), "which is not a block ID", 7),
        (with_field("edges", "{causes: [F-20261125-0a1b2c]}"), "unknown edge type 'causes'", 7),
        (with_field("edges", "[F-20261125-0a1b2c]"), "field 'edges' must be a mapping", 7),
        (with_field("edges", "{cites: [T-20261125-0a1b2c]}"), "points at the block itself", 7),
        (with_field("edges", "{cites: [PER-a, PER-a]}"), "lists the same ID twice", 7),
        (with_field("constraint", "{axis: a, scope: b, modality: could, object: c}"), "modality 'could'", 7),
        (with_field("constraint", "{axis: a, scope: b, modality: must}"), "constraint needs 'object'", 7),
        (with_field("constraint", "{axis: a, scope: b, modality: must, object: c, x: 1}"), "unknown keys: x", 7),
        (with_field("title", '"two\\nlines"'), "must be one line", 6),
        (with_field("mystery", "!!binary aGVsbG8="), "field 'mystery' holds a YAML bytes value", 7),
        (with_field("mystery", "!!set {a, b}"), "field 'mystery' holds a YAML set value", 7),
        (with_field("body", "text"), "key 'body' is reserved", 7),
        (with_field("path", "x.md"), "key 'path' is reserved", 7),
    ],
)
def test_bad_blocks_name_the_file_and_line(text: str, message: str, line: int | None) -> None:
    with pytest.raises(BlockError) as caught:
        parse(text, "memory/tasks/T-20261125-0a1b2c.md")
    error = caught.value
    assert message in str(error)
    assert error.line == line
    where = "memory/tasks/T-20261125-0a1b2c.md" + (f":{line}" if line else "")
    assert str(error).startswith(where + ": ")
    assert "\n" not in str(error)


def test_yaml_errors_point_at_where_the_trouble_started() -> None:
    text = "---\nid: T-20261125-0a1b2c\ntitle: [unclosed\nstatus: todo\n---\n"
    with pytest.raises(BlockError) as caught:
        parse(text, "t.md")
    assert "started on line 3" in str(caught.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"---\ntitle: caf\xe9\n---\n", "invalid UTF-8 at byte 14"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "binary file"),
        (b"---\nid: x\n---\n" + b"a" * b.MAX_BLOCK_BYTES, "the limit is 1048576 (1 MiB)"),
    ],
)
def test_raw_bytes_that_are_not_a_block_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(BlockError) as caught:
        parse(data, "memory/notes/N-20260101-abcdef.md")
    assert str(caught.value).startswith("memory/notes/N-20260101-abcdef.md: ")
    assert message in str(caught.value)


def test_a_block_just_under_the_limit_is_fine() -> None:
    head = with_field("title", "big").encode()
    data = head + b"x" * (b.MAX_BLOCK_BYTES - len(head) - 1) + b"\n"
    assert len(data) == b.MAX_BLOCK_BYTES
    assert len(parse(data, "t.md").body) == len(data) - len(head) - 1 + len("body\n")


# -- IDs -------------------------------------------------------------------------


def test_new_ids_follow_the_format_and_are_redrawn_when_taken() -> None:
    when = datetime(2026, 11, 25, 11, 50, tzinfo=UTC)
    seen: set[str] = set()
    for _ in range(50):
        new = b.new_id("decision", title="same", author="alice", when=when, taken=seen.__contains__)
        assert b.ID_RE.match(new) and new.startswith("D-20261125-")
        assert new not in seen
        seen.add(new)
    with pytest.raises(BadInput, match="could not draw a free block ID"):
        b.new_id("fact", title="t", author="a", when=when, taken=lambda _id: True)


def test_entity_ids_are_slugs_of_the_title() -> None:
    when = b.now_utc()
    new = b.new_id("entity", title="Zoë O'Brien", author="a", when=when, taken=lambda _id: False, prefix="PER")
    assert new == "PER-zoe-o-brien"
    assert b.type_of_id(new) == "entity"
    with pytest.raises(BadInput, match="entity PER-zoe-o-brien already exists"):
        b.new_id("entity", title="Zoë O'Brien", author="a", when=when, taken=lambda _id: True, prefix="PER")
    with pytest.raises(BadInput, match="cannot make an entity slug"):
        b.slugify("!!!")
