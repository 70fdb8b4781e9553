"""One way results become JSON data, so the CLI's `--json` and the MCP server print the same keys.

A result dataclass inherits `Jsonable`: its `to_json()` is its fields, in order, plus the
properties it names in `json_extra`, with nested results, tuples and paths made plain. A class
whose JSON shape differs from its fields (renamed keys, formatted times) writes its own `to_json`;
`to_data` calls it wherever such an object is nested.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from pathlib import PurePath
from typing import Any, ClassVar


def to_data(value: Any) -> Any:
    """`value` as JSON data: dicts, lists, strings, numbers, booleans and None."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(to_data(v) for v in value)
    if isinstance(value, PurePath):
        return str(value)
    return value


def _fields(value: Any) -> dict[str, Any]:
    out = {f.name: to_data(getattr(value, f.name)) for f in fields(value)}
    out.update((name, to_data(getattr(value, name))) for name in getattr(value, "json_extra", ()))
    return out


class Jsonable:
    """A result whose JSON is its fields, plus the properties named in `json_extra`."""

    json_extra: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        return _fields(self)
