"""The block format: the `Block` dataclass, parse/render, IDs and the per-type schema.

Pure code: no git, no files. `parse(render(b)) == b` for every valid block, and
`render(parse(text)) == text` for canonical text.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, cached_property
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from mindmem.errors import BadInput, BlockError
from mindmem.store import yaml_guard
from mindmem.store.text import normalise

# Limits that keep any input cheap to judge and plain to read (see docs/block-format.md).
MAX_BLOCK_BYTES = 1024 * 1024
MAX_TITLE_CHARS = 300

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

_HASH_ID = r"(?:D|F|T|I|N)-\d{8}-[0-9a-f]{6}"
_ENTITY_ID = r"(?:PER|PRJ|TOOL|ORG)-[a-z0-9]+(?:-[a-z0-9]+)*"
ID_RE = re.compile(rf"^(?:{_HASH_ID}|{_ENTITY_ID})$")
ID_IN_TEXT_RE = re.compile(rf"\b(?:{_HASH_ID}|{_ENTITY_ID})\b")
# `[[ID]]`, and Obsidian's `[[ID|shown text]]` and `[[ID#Heading]]` / `[[ID#^block]]`: group 1 is the target.
WIKI_LINK_RE = re.compile(r"\[\[([^\[\]|#\n]+)(?:#[^\[\]|\n]*)?(?:\|[^\[\]\n]*)?\]\]")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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
# JSON output puts these beside the frontmatter keys (`mm show --json`), so a block may not use them.
RESERVED_KEYS = ("body", "path", "commit")
DATE_KEYS = ("valid_from", "valid_to", "expires", "due")
CONSTRAINT_KEYS = ("axis", "scope", "modality", "object", "predicate")


class _Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML that keeps dates as the strings a person wrote, so they round-trip."""


class _Dumper(yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper):  # type: ignore[misc]
    """Safe YAML that writes date-like strings unquoted, matching `_Loader`."""


for _cls in (_Loader, _Dumper):
    _cls.yaml_implicit_resolvers = {
        ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


class _Frontmatter(YAMLHandler):
    """python-frontmatter's `^-{3,}\\s*$` boundary eats a body's leading blank-ish line; spaces only here."""

    FM_BOUNDARY = re.compile(r"^-{3,}[ \t\r]*$", re.MULTILINE)


_FRONTMATTER = _Frontmatter()


@dataclass(frozen=True)
class Constraint:
    """A signature the contradiction checks read: who may or must do what, where."""

    axis: str
    scope: str
    modality: str
    obj: str
    predicate: str | None = None

    def to_mapping(self) -> dict[str, str]:
        out = {"axis": self.axis, "scope": self.scope, "modality": self.modality, "object": self.obj}
        if self.predicate is not None:
            out["predicate"] = self.predicate
        return out


@dataclass(frozen=True)
class Citation:
    path: str
    sha: str
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Block:
    """One memory item. Build it with `parse` or `from_mapping`, which validate."""

    id: str
    type: str
    title: str
    status: str
    created: str
    author: str | None = None
    subject: str | None = None
    predicate: str | None = None
    obj: str | None = None
    constraint: Constraint | None = None
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    # (edge type, targets) in EDGE_TYPES order; edge types with no targets are left out.
    edges: tuple[tuple[str, tuple[str, ...]], ...] = ()
    citations: tuple[str, ...] = ()
    valid_from: str | None = None
    valid_to: str | None = None
    expires: str | None = None
    due: str | None = None
    body: str = ""
    # Keys a person added that the format does not know, in the order they were written.
    extra: tuple[tuple[str, Any], ...] = field(default=())

    def targets(self, edge_type: str) -> tuple[str, ...]:
        return dict(self.edges).get(edge_type, ())

    def all_edges(self) -> Iterator[tuple[str, str]]:
        """Every (edge type, target), explicit edges first, then body wiki links as relates_to."""
        for edge_type, targets in self.edges:
            for target in targets:
                yield edge_type, target
        explicit = set(self.targets("relates_to"))
        for target in self.wiki_links:
            if target not in explicit:
                yield "relates_to", target

    @cached_property
    def wiki_links(self) -> tuple[str, ...]:
        return wiki_links(self.body)

    def parsed_citations(self) -> tuple[Citation, ...]:
        return tuple(_citation(c) for c in self.citations)

    def to_mapping(self) -> dict[str, Any]:
        """The frontmatter as a plain mapping, in canonical key order."""
        out: dict[str, Any] = {}
        for key, attr in KEY_ATTRS.items():
            value = getattr(self, attr)
            if value is None or value == ():
                continue
            if key == "constraint":
                value = value.to_mapping()
            elif key == "edges":
                value = {t: list(ids) for t, ids in value}
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        for key, value in self.extra:
            out[key] = value
        return out

    def to_json(self) -> dict[str, Any]:
        return {**self.to_mapping(), "body": self.body}


def render(block: Block) -> str:
    """The one canonical text of a block."""
    lines = ["---\n"]
    for key, value in block.to_mapping().items():
        lines.append(
            yaml.dump(
                {key: value},
                Dumper=_Dumper,
                sort_keys=False,
                # Short lists and mappings inline (`tags: [a, b]`), everything else in block style.
                default_flow_style=None if isinstance(value, (list, dict)) else False,
                allow_unicode=True,
                width=2**31 - 1,
            )
        )
    lines.append("---\n")
    if block.body:
        lines.append(block.body + "\n")
    return "".join(lines)


def parse(data: str | bytes, path: str) -> Block:
    """Parse a block file. Raises `BlockError` naming `path` (and the line, for YAML)."""
    text = decode(data, path)
    if not _FRONTMATTER.detect(text):
        raise BlockError(path, "missing YAML frontmatter: a block starts with a '---' line", 1)
    try:
        fm, content = _FRONTMATTER.split(text)
    except ValueError:
        raise BlockError(path, "frontmatter is not closed by a '---' line", 1) from None
    try:
        meta = _canonical_meta(fm)
        if meta is None:
            yaml_guard.check(fm, _Loader)  # anchors, duplicate keys, depth, huge numbers: before building
            meta = yaml.load(fm, Loader=_Loader)
    except yaml_guard.Refused as exc:
        raise BlockError(path, exc.message, exc.line + 1) from None
    except yaml.MarkedYAMLError as exc:
        # `fm` starts with the rest of the opening '---' line, so 0-based YAML lines are 1-based file lines.
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = exc.problem or exc.context
        if exc.problem and exc.context and exc.context_mark:
            # The context often names where the trouble started (an unclosed '[' or quote), a line earlier.
            reason += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        raise BlockError(path, f"invalid YAML: {reason}", line) from None
    except yaml.reader.ReaderError as exc:
        # `fm` starts with the rest of the opening line, so counting its line breaks gives the file line.
        point = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        line = fm.count("\n", 0, exc.position) + 1
        raise BlockError(path, f"invalid YAML: the character U+{point:04X} is not allowed in YAML", line) from None
    except yaml.YAMLError as exc:
        raise BlockError(path, f"invalid YAML: {_one_line(exc)}", 1) from None
    if not isinstance(meta, dict):
        raise BlockError(path, "frontmatter must be a YAML mapping of keys to values", 2)
    return from_mapping(meta, content, path, _fm_text=fm)


# -- fast path for canonical frontmatter ----------------------------------------------
# `render` writes a narrow YAML dialect: `key: scalar`, one-line flow lists and mappings of plain
# or single-quoted scalars, and one nested block mapping level (`edges:`). Reading that with a
# few regexes is several times faster than PyYAML, whose Python-level constructor was most of
# the cost of reading 10k blocks. Anything else (comments, double quotes, numbers, booleans,
# anchors, block lists, odd characters ...) gives None and goes through `yaml.load`, so the
# result is always what `yaml.load(fm, Loader=_Loader)` would return.

_FAST_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,127}):(?: (.+))?")
# A plain scalar: no flow indicators or quotes; ':' only before a non-space, '#' only after one,
# single spaces only; it may not start with an indicator.
_FAST_PLAIN = re.compile(r"[A-Za-z0-9_(/.$~+](?:[^\[\]{},'\"\s:#]|:(?=\S)|(?<=\S)#| (?=[^\s#]))*")
_FAST_FLOW_ITEM = re.compile(r"[A-Za-z0-9_(/.$~+](?:[^\[\]{},'\"\s:#]|(?<=\S)#| (?=[^\s#]))*")
_FAST_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_FAST_UNSAFE = re.compile("[\t\r\x85\u2028\u2029\ufeff]")
# Plain scalars that YAML reads as something other than a string (null, bool, int, float, merge),
# by first character, as one pattern each (PyYAML's own patterns are verbose-mode regexes).
_IMPLICIT = {
    ch: re.compile("|".join(f"(?:{rx.pattern})" for _, rx in resolvers), re.X)
    for ch, resolvers in _Loader.yaml_implicit_resolvers.items()
    if ch
}
_KNOWN_KEYS = frozenset([*KEY_ATTRS, *EDGE_TYPES, *CONSTRAINT_KEYS])


class _NotCanonical(Exception):
    pass


def _canonical_meta(fm: str) -> dict[str, Any] | None:
    """The frontmatter mapping if `fm` is in the canonical dialect, else None."""
    if _FAST_UNSAFE.search(fm) or yaml.reader.Reader.NON_PRINTABLE.search(fm):
        return None
    meta: dict[str, Any] = {}
    parent = ""  # the key of the block mapping being read (`edges:`), if any
    try:
        for line in fm.split("\n"):
            if not line:
                continue
            indented = line.startswith("  ")
            m = _FAST_KEY.fullmatch(line[2:] if indented else line)
            if m is None or (indented and not parent) or (m[1] not in _KNOWN_KEYS and not _yaml_str(m[1])):
                return None
            if indented:
                nested = meta[parent] = meta[parent] or {}
                if m[1] in nested or m[2] is None:
                    return None
                nested[m[1]] = _fast_value(m[2])
                continue
            if m[1] in meta:
                return None
            parent = m[1] if m[2] is None else ""
            meta[m[1]] = None if m[2] is None else _fast_value(m[2])
    except _NotCanonical:
        return None
    return meta or None


def _fast_value(text: str) -> Any:
    if text[0] == "[" and text[-1] == "]":
        return [_fast_scalar(item, _FAST_FLOW_ITEM) for item in text[1:-1].split(", ")] if len(text) > 2 else []
    if text[0] == "{" and text[-1] == "}":
        out = {}
        for item in text[1:-1].split(", "):
            key, sep, value = item.partition(": ")
            if not sep or key in out:
                raise _NotCanonical
            out[_fast_scalar(key, _FAST_FLOW_ITEM)] = _fast_scalar(value, _FAST_FLOW_ITEM)
        return out
    return _fast_scalar(text, _FAST_PLAIN)


def _fast_scalar(text: str, plain: re.Pattern[str]) -> str:
    if plain.fullmatch(text) and _yaml_str(text):
        return text
    quoted = _FAST_QUOTED.fullmatch(text)
    if quoted:
        return quoted[1].replace("''", "'")
    raise _NotCanonical


def _yaml_str(text: str) -> bool:
    """Whether YAML reads this plain scalar as a string."""
    implicit = _IMPLICIT.get(text[0])
    return implicit is None or implicit.match(text) is None


def parse_value(text: str) -> Any:
    """A YAML value in the block dialect, for `--set key=value` (so `tags=[a, b]` works)."""
    try:
        yaml_guard.check(text, _Loader)
        return yaml.load(text, Loader=_Loader)
    except yaml_guard.Refused as exc:
        raise BadInput(f"cannot read value {_short(text)!r}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        raise BadInput(f"cannot read value {_short(text)!r} as YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"cannot read value {_short(text)!r} as YAML: {_one_line(exc)}") from None


def decode(data: str | bytes, path: str) -> str:
    """Check size and encoding of a block file's raw contents.

    The one decoding rule (also for stdin and the config, see `mindmem.store.text`): strict UTF-8,
    a leading byte-order mark dropped, CRLF read as LF.
    """
    if isinstance(data, str):
        raw_len = len(data.encode("utf-8", "surrogatepass"))
        if raw_len > MAX_BLOCK_BYTES:
            raise BlockError(path, f"block is {raw_len} bytes; the limit is {MAX_BLOCK_BYTES} (1 MiB)")
        text = data
    else:
        if len(data) > MAX_BLOCK_BYTES:
            raise BlockError(path, f"block is {len(data)} bytes; the limit is {MAX_BLOCK_BYTES} (1 MiB)")
        if b"\0" in data:
            raise BlockError(path, "binary file (contains NUL bytes), not a Markdown block")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BlockError(path, f"invalid UTF-8 at byte {exc.start}") from None
    if "\0" in text:
        raise BlockError(path, "binary file (contains NUL bytes), not a Markdown block")
    return normalise(text)


def from_mapping(meta: Mapping[str, Any], body: str, path: str, *, _fm_text: str | None = None) -> Block:
    """Validate a frontmatter mapping and build the Block. The only way blocks are made.

    The body loses leading and trailing blank lines, as the canonical text has none.
    """

    def fail(key: str, message: str) -> BlockError:
        return BlockError(path, message, _key_line(_fm_text, key))

    for key in meta:
        if not isinstance(key, str):
            raise fail(str(key), f"frontmatter key {key!r} must be a string")
        if key in RESERVED_KEYS:
            raise fail(key, f"key '{key}' is reserved (mm uses it in JSON output); rename it")
    for key in REQUIRED_KEYS:
        if meta.get(key) in (None, ""):
            raise fail(key, f"missing required field '{key}'")

    values: dict[str, Any] = {}
    for key in ("id", "type", "title", "status", "created", "author", "subject", "predicate", "object"):
        if key in meta and meta[key] is not None:
            if not isinstance(meta[key], str):
                raise fail(key, f"field '{key}' must be a string, not {_kind(meta[key])}")
            values[KEY_ATTRS[key]] = meta[key]

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

    for key in ("tags", "aliases", "citations"):
        if key in meta and meta[key] is not None:
            items = meta[key]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise fail(key, f"field '{key}' must be a list of strings")
            values[key] = tuple(items)
    for citation in values.get("citations", ()):
        problem = _citation_problem(citation)
        if problem:
            raise fail("citations", problem)

    for key in DATE_KEYS:
        if key in meta and meta[key] is not None:
            if not isinstance(meta[key], str) or not _is_date(meta[key]):
                raise fail(key, f"field '{key}' must be a date YYYY-MM-DD, not {meta[key]!r}")
            values[key] = meta[key]

    if meta.get("constraint") is not None:
        try:
            values["constraint"] = _constraint(meta["constraint"])
        except ValueError as exc:
            raise fail("constraint", str(exc)) from None

    if meta.get("edges") is not None:
        try:
            values["edges"] = _edges(meta["edges"], values["id"])
        except ValueError as exc:
            raise fail("edges", str(exc)) from None

    if "\0" in body:
        raise BlockError(path, "the body holds a NUL character; a block is text")
    values["extra"] = tuple((k, v) for k, v in meta.items() if k not in KEY_ATTRS)
    for key, value in values["extra"]:
        problem = _not_plain(value, set())
        if problem:
            raise fail(key, f"field '{key}' holds {problem}; use strings, numbers, booleans, lists and mappings")
    return Block(body=body.strip("\n"), **values)


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


def block_relpath(block: Block) -> str:
    """Where a block lives under the memory root."""
    return id_relpath(block.id)


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
        raise BadInput(f"cannot make an entity slug from {text!r}; give --id")
    return slug


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def format_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Where a regex over the text finds exactly what markdown-it would: no HTML, entities or escapes
# (`<&\\`), no fences or indentation that may make code (`~~~`, 4 spaces, tabs), no link syntax that
# could swallow a `[[…]]`. Code spans (backticks) are handled by `_without_code_spans`.
_NEEDS_PARSER = re.compile(r"[<&\\\t]|~~~| {4}|\]\(|\]\[|\]:")
_TICKS = re.compile(r"`+")


def wiki_links(body: str) -> tuple[str, ...]:
    """`[[ID]]` targets (also `[[ID|alias]]`, `[[ID#heading]]`) in Markdown text, outside code spans,
    fences and indented code."""
    if "[[" not in body:
        return ()
    # Most bodies are prose with a few code spans: the regex is exact there and ~50x cheaper than parsing.
    text = None if _NEEDS_PARSER.search(body) else _without_code_spans(body)
    if text is None:
        return _wiki_links_parsed(body)
    matches = list(WIKI_LINK_RE.finditer(text))
    if any(ch in m.group(0) for m in matches for ch in "*_"):
        return _wiki_links_parsed(body)  # emphasis may split a link
    return _ids(m.group(1) for m in matches)


def _without_code_spans(body: str) -> str | None:
    """The body with each code span replaced by a line break, when every backtick run opens and closes
    a span on its own line (then no block structure can change the pairing); else None."""
    if "`" not in body:
        return body
    lines = []
    for line in body.split("\n"):
        runs = list(_TICKS.finditer(line))
        kept, last, i = [], 0, 0
        while i < len(runs):
            closer = next((j for j in range(i + 1, len(runs)) if len(runs[j].group()) == len(runs[i].group())), None)
            if closer is None:
                return None  # it might close on a later line, or be literal: let the parser decide
            kept.append(line[last : runs[i].start()])
            last, i = runs[closer].end(), closer + 1
        kept.append(line[last:])
        lines.append("\n".join(kept))
    return "\n".join(lines)


def _wiki_links_parsed(body: str) -> tuple[str, ...]:
    """`wiki_links` by the CommonMark parse: link text only from text runs of inline tokens."""
    targets: list[str] = []
    for token in _markdown().parse(body):
        if token.type != "inline" or not token.children:
            continue
        run: list[str] = []
        for child in [*token.children, None]:
            if child is not None and child.type in ("text", "softbreak"):
                run.append(child.content if child.type == "text" else "\n")
                continue
            targets += [m.group(1) for m in WIKI_LINK_RE.finditer("".join(run))]
            run = []
    return _ids(targets)


def _ids(targets: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for target in targets:
        if ID_RE.match(target) and target not in found:
            found.append(target)
    return tuple(found)


@cache
def _markdown() -> Any:
    """One CommonMark parser for the process (building one costs more than parsing a block)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


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
            raise ValueError(f"edges.{edge_type} must be a list of block IDs, like [{_short(str(targets), 30)}]")
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
        return f"citation '{_short(text)}' must look like path@sha or path@sha#L10-L42"
    path = m["path"]
    if path.startswith("/") or "\\" in path or ".." in path.split("/"):
        return f"citation '{_short(text)}' must name a path inside the repository (no leading '/', no '..')"
    return None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _citation(text: str) -> Citation:
    m = CITATION_RE.match(text)
    if not m:
        raise BadInput(f"citation '{text}' must look like path@sha or path@sha#L10-L42")
    start = int(m["start"]) if m["start"] else None
    end = int(m["end"]) if m["end"] else start
    return Citation(m["path"], m["sha"], start, end)


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
    try:
        node = yaml.compose(fm_text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if key_node.value == key:
                return key_node.start_mark.line + 1
    return None
