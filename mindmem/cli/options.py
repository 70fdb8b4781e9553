"""Option values the CLI parses itself: `--set key=value` and `--edge EDGE_TYPE:ID`."""

from __future__ import annotations

from typing import Any

from mindmem.errors import BadInput


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """`--set key=value` options; values are YAML, so `tags=[a, b]` works."""
    from mindmem.store.blocks import parse_value

    fields: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set expects key=value, got {item!r}")
        try:
            fields[key.strip()] = parse_value(value)
        except BadInput as exc:
            raise BadInput(f"--set {key.strip()}: {exc}") from None
    return fields


def parse_edges(items: list[str] | None) -> list[tuple[str, str]]:
    """`--edge EDGE_TYPE:ID` options."""
    edges = []
    for item in items or []:
        edge_type, sep, target = item.partition(":")
        if not sep:
            raise BadInput(f"--edge expects EDGE_TYPE:ID, got {item!r}")
        edges.append((edge_type, target))
    return edges
