"""A fast reader for frontmatter in the canonical dialect.

`render` writes a narrow YAML dialect: `key: scalar` lines, block lists (`  - item`) and block
mappings two levels deep (`edges:` / `  cites:` / `    - ID`), with plain, single- or double-quoted
scalars (no escapes). Older one-line flow lists and mappings (`tags: [a, b]`) are read too. Reading
that with a few regexes is several times faster than PyYAML, whose Python-level constructor was most
of the cost of reading 10k blocks. Anything else (comments, escapes, numbers, booleans, anchors,
deeper nesting, odd characters ...) gives None and goes through `yaml.load`, so the result is always
what `yaml.load(fm, Loader=dialect.loader())` would return. PyYAML is not imported here.
"""

from __future__ import annotations

import re
from typing import Any

from mindmem.store.format.schema import CONSTRAINT_KEYS, EDGE_TYPES, KEY_ATTRS

_FAST_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,127}):(?: (.+))?")
# A plain scalar: no flow indicators or quotes; ':' only before a non-space, '#' only after one,
# single spaces only; it may not start with an indicator.
_FAST_PLAIN = re.compile(r"[A-Za-z0-9_(/.$~+](?:[^\[\]{},'\"\s:#]|:(?=\S)|(?<=\S)#| (?=[^\s#]))*")
_FAST_FLOW_ITEM = re.compile(r"[A-Za-z0-9_(/.$~+](?:[^\[\]{},'\"\s:#]|(?<=\S)#| (?=[^\s#]))*")
_FAST_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_FAST_DOUBLE_QUOTED = re.compile(r'"([^"\\]*)"')
_FAST_UNSAFE = re.compile("[\t\r\x85\u2028\u2029\ufeff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# PyYAML's implicit resolvers of plain scalars (yaml/resolver.py), less timestamps, which blocks keep
# as strings: (tag, first characters, pattern), the verbose patterns written without their layout.
# A copy, so canonical frontmatter is read without importing PyYAML; tests hold it to PyYAML's table.
IMPLICIT_RESOLVERS = (
    ("bool", "yYnNtTfFoO", r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"),
    ("null", "nN~", r"^(?:~|null|Null|NULL|)$"),
    (
        "float",
        "-+0123456789.",
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    ),
    (
        "int",
        "-+0123456789",
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    ),
    ("merge", "<", r"^(?:<<)$"),
    ("value", "=", r"^(?:=)$"),
    ("yaml", "!&*", r"^(?:!|&|\*)$"),
)
# Plain scalars that YAML reads as something other than a string, by first character, as one pattern each.
_IMPLICIT = {
    ch: re.compile("|".join(f"(?:{pattern})" for _, first, pattern in IMPLICIT_RESOLVERS if ch in first))
    for ch in sorted({ch for _, first, _ in IMPLICIT_RESOLVERS for ch in first})
}
# The characters PyYAML's reader refuses (`yaml.reader.Reader.NON_PRINTABLE`), named directly: its
# pattern, the complement of the allowed ranges, takes 15-30 ms to compile, this one 1 ms.
NON_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_KNOWN_KEYS = frozenset([*KEY_ATTRS, *EDGE_TYPES, *CONSTRAINT_KEYS])


class _NotCanonical(Exception):
    pass


def canonical_meta(fm: str) -> dict[str, Any] | None:
    """The frontmatter mapping if `fm` is in the canonical dialect, else None."""
    if _FAST_UNSAFE.search(fm) or NON_PRINTABLE.search(fm):
        return None
    reader = _Reader()
    try:
        for line in fm.split("\n"):
            if line:
                reader.read(line)
    except _NotCanonical:
        return None
    return reader.meta or None


class _Reader:
    """Reads one line at a time; `parent` is the top-level key whose value the indented lines below it
    build (a list or a mapping), `child` the key under it whose list the doubly indented lines build."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.parent: str | None = None
        self.child: str | None = None

    def read(self, line: str) -> None:
        if line[0] != " ":  # most lines: `key: value` at the top
            key, value = _key(line)
            if key in self.meta:
                raise _NotCanonical
            self.meta[key] = None if value is None else _fast_value(value)
            self.parent, self.child = (key if value is None else None), None
        elif line.startswith("  - "):
            self.child = None
            _container(self.meta, self.parent, list).append(_fast_scalar(line[4:], _FAST_PLAIN))
        elif line.startswith("    - "):
            nested = _container(self.meta, self.parent, dict)
            _container(nested, self.child, list).append(_fast_scalar(line[6:], _FAST_PLAIN))
        elif line.startswith("  "):
            key, value = _key(line[2:])
            nested = _container(self.meta, self.parent, dict)
            if key in nested:
                raise _NotCanonical
            nested[key] = None if value is None else _fast_value(value)
            self.child = key if value is None else None
        else:
            raise _NotCanonical


def _key(text: str) -> tuple[str, str | None]:
    """(key, the text of its value or None) of a `key: value` or `key:` line."""
    m = _FAST_KEY.fullmatch(text)
    if m is None or (m[1] not in _KNOWN_KEYS and not is_yaml_str(m[1])):
        raise _NotCanonical
    return m[1], m[2]


def _container(mapping: dict[str, Any], key: str | None, kind: type[list[Any]] | type[dict[str, Any]]) -> Any:
    """The list or mapping under `key`, made on its first line; _NotCanonical if the lines mix kinds."""
    if key is None:
        raise _NotCanonical
    value = mapping[key]
    if value is None:
        value = mapping[key] = kind()
    elif not isinstance(value, kind):
        raise _NotCanonical
    return value


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
    if plain.fullmatch(text) and is_yaml_str(text):
        return text
    quoted = _FAST_QUOTED.fullmatch(text)
    if quoted:
        return quoted[1].replace("''", "'")
    quoted = _FAST_DOUBLE_QUOTED.fullmatch(text)
    if quoted:
        return quoted[1]
    raise _NotCanonical


def reads_as_plain(text: str) -> bool:
    """Whether this reader (and so YAML) reads `text` written plain, unquoted, back as this string, and
    PyYAML's writer would write it plain too (libyaml escapes characters beyond U+FFFF, so those are left to it)."""
    return (
        _FAST_PLAIN.fullmatch(text) is not None
        and not text.startswith("...")  # a document end marker: YAML's writer quotes it
        and _ASTRAL.search(text) is None
        and is_yaml_str(text)
        and _FAST_UNSAFE.search(text) is None
        and NON_PRINTABLE.search(text) is None
    )


def is_yaml_str(text: str) -> bool:
    """Whether YAML reads this plain scalar as a string."""
    implicit = _IMPLICIT.get(text[0])
    return implicit is None or implicit.match(text) is None
