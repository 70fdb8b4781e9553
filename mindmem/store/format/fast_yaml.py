"""A fast reader for frontmatter in the canonical dialect.

`render` writes a narrow YAML dialect: `key: scalar`, one-line flow lists and mappings of plain
or single-quoted scalars, and one nested block mapping level (`edges:`). Reading that with a
few regexes is several times faster than PyYAML, whose Python-level constructor was most of
the cost of reading 10k blocks. Anything else (comments, double quotes, numbers, booleans,
anchors, block lists, odd characters ...) gives None and goes through `yaml.load`, so the
result is always what `yaml.load(fm, Loader=Loader)` would return.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from mindmem.store.format.dialect import Loader
from mindmem.store.format.schema import CONSTRAINT_KEYS, EDGE_TYPES, KEY_ATTRS

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
    for ch, resolvers in Loader.yaml_implicit_resolvers.items()
    if ch
}
_KNOWN_KEYS = frozenset([*KEY_ATTRS, *EDGE_TYPES, *CONSTRAINT_KEYS])


class _NotCanonical(Exception):
    pass


def canonical_meta(fm: str) -> dict[str, Any] | None:
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
            if m is None or (indented and not parent) or (m[1] not in _KNOWN_KEYS and not is_yaml_str(m[1])):
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
    if plain.fullmatch(text) and is_yaml_str(text):
        return text
    quoted = _FAST_QUOTED.fullmatch(text)
    if quoted:
        return quoted[1].replace("''", "'")
    raise _NotCanonical


def is_yaml_str(text: str) -> bool:
    """Whether YAML reads this plain scalar as a string."""
    implicit = _IMPLICIT.get(text[0])
    return implicit is None or implicit.match(text) is None
