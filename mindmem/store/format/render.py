"""Writing a block: its one canonical text.

The frontmatter is written the way Obsidian's property editor writes it, so a block Obsidian saved
and `mm fmt` agree byte for byte: lists and mappings in block style indented by two spaces
(`tags:` then `  - billing`), one line per scalar, and a string quoted only where YAML needs it, in
double quotes (single quotes when it holds a `"` and no `'`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mindmem.store.format import dialect
from mindmem.store.format.fast_yaml import reads_as_plain
from mindmem.store.format.model import Block

_NO_WRAP = 2**31 - 1
_QUOTED = ("'", '"', "|", ">")


def render(block: Block) -> str:
    """The one canonical text of a block."""
    lines = ["---\n", *_mapping(block.to_mapping(), 0), "---\n"]
    if block.body:
        lines.append(block.body + "\n")
    return "".join(lines)


def _mapping(mapping: Mapping[Any, Any], indent: int) -> list[str]:
    pad = " " * indent
    out = []
    for key, value in mapping.items():
        if _nested(value):
            out.append(f"{pad}{scalar(key)}:\n")
            out += _collection(value, indent + 2)
        else:
            out.append(f"{pad}{scalar(key)}: {scalar(value)}\n")
    return out


def _sequence(items: Sequence[Any], indent: int) -> list[str]:
    pad = " " * indent
    out = []
    for item in items:
        if _nested(item):
            # A collection inside a list starts on the dash's line: `- key: value`, then aligned under it.
            first, *rest = _collection(item, indent + 2)
            out += [f"{pad}- {first[indent + 2 :]}", *rest]
        else:
            out.append(f"{pad}- {scalar(item)}\n")
    return out


def _collection(value: Mapping[Any, Any] | Sequence[Any], indent: int) -> list[str]:
    return _mapping(value, indent) if isinstance(value, dict) else _sequence(value, indent)


def _nested(value: Any) -> bool:
    """A non-empty list or mapping: written over the following lines (an empty one is `[]` or `{}`)."""
    return isinstance(value, (list, dict)) and len(value) > 0


def scalar(value: Any) -> str:
    """One scalar (or an empty collection) as it appears after `key: ` or `- `."""
    if isinstance(value, str) and reads_as_plain(value):
        return value  # most keys and values; asking PyYAML costs ~50 us each (and its import 20-50 ms)
    import yaml

    dumper = dialect.dumper()
    written = yaml.dump({"k": value}, Dumper=dumper, default_flow_style=False, allow_unicode=True, width=_NO_WRAP)
    written = written.removeprefix("k: ").removesuffix("\n")
    if not isinstance(value, str) or (not written.startswith(_QUOTED) and "\n" not in written):
        return written
    if '"' in value and "'" not in value and value.isprintable():
        return f"'{value}'"
    quoted = yaml.dump(value, Dumper=dumper, default_style='"', allow_unicode=True, width=_NO_WRAP)
    return quoted.removesuffix("\n")
