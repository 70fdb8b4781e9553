"""Frontmatter YAML that cannot explode, judged from the parser's events before anything is built.

PyYAML builds anchors and aliases into shared objects, so a few hundred bytes of nested
aliases expand into billions of items when anything walks the result (the "billion laughs").
No block needs them, so the first anchor or alias is refused. The same pass refuses what
would otherwise surprise a reader or crash a constructor: duplicate keys (YAML keeps the
last; a person reading the file sees the first), keys that are not scalars, nesting past
`MAX_DEPTH`, and integers too long for Python to convert (its 4,300-digit limit raises).

Events stream from the parser one at a time, so the cost is linear in the text and the
refusal comes at the first offending token, whatever follows it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_DEPTH = 16
MAX_NUMBER_CHARS = 100
_NO_ANCHORS = " (no anchors or aliases: write the value out)"

_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
# Plain scalars YAML would read as numbers, by first character (timestamps are strings in blocks anyway).
_NUMBER = {
    ch: re.compile("|".join(f"(?:{rx.pattern})" for tag, rx in resolvers if tag in _NUMBER_TAGS), re.X)
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    if ch and any(tag in _NUMBER_TAGS for tag, _ in resolvers)
}


class Refused(Exception):
    """The frontmatter uses something blocks do not allow; `line` is 0-based within the YAML text."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Mapping:
    __slots__ = ("expect_key", "keys")

    def __init__(self) -> None:
        self.keys: dict[str, int] = {}
        self.expect_key = True


def check(text: str, loader: Any) -> None:
    """Raise `Refused` for the first anchor, alias, duplicate key, deep nesting or oversized number.

    YAML syntax errors are left for `yaml.load` to report (it names them better); this only
    walks as far as the parser gets.
    """
    stack: list[_Mapping | None] = []  # one entry per open collection; None for a sequence
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            raise Refused(f"YAML alias *{event.anchor} is not allowed in a block{_NO_ANCHORS}", _line(event))
        if not isinstance(event, yaml.NodeEvent):
            if isinstance(event, yaml.CollectionEndEvent) and stack:
                stack.pop()
            continue
        if event.anchor is not None:
            raise Refused(f"YAML anchor &{event.anchor} is not allowed in a block{_NO_ANCHORS}", _line(event))
        parent = stack[-1] if stack else None
        if parent is not None:
            if parent.expect_key:
                _check_key(event, parent)
            parent.expect_key = not parent.expect_key
        if isinstance(event, yaml.ScalarEvent):
            _check_number(event)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise Refused(f"frontmatter nests deeper than {MAX_DEPTH} levels", _line(event))
            stack.append(_Mapping() if isinstance(event, yaml.MappingStartEvent) else None)


def _check_key(event: yaml.NodeEvent, mapping: _Mapping) -> None:
    if not isinstance(event, yaml.ScalarEvent):
        raise Refused("a mapping key must be a plain value, not a list or mapping", _line(event))
    line = _line(event)
    first = mapping.keys.get(event.value)
    if first is not None:
        raise Refused(
            f"duplicate key '{_short(event.value)}' on lines {first + 1} and {line + 1} "
            "(YAML keeps only the last; say it once)",
            line,
        )
    mapping.keys[event.value] = line


def _check_number(event: yaml.ScalarEvent) -> None:
    value = event.value
    if len(value) <= MAX_NUMBER_CHARS or event.style or event.tag is not None:
        return
    pattern = _NUMBER.get(value[:1])
    if pattern is not None and pattern.match(value):
        raise Refused(f"a number of {len(value)} characters; the limit is {MAX_NUMBER_CHARS} (quote it)", _line(event))


def _line(event: yaml.Event) -> int:
    return event.start_mark.line if event.start_mark is not None else 0


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
