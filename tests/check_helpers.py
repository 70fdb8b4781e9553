"""Helpers for the check tests: write block files straight into a memory repo's work tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mindmem.store.blocks import block_relpath, from_mapping, render, type_of_id


def put(
    repo: Path,
    block_id: str,
    title: str,
    *,
    status: str = "active",
    created: str = "2026-01-01T00:00:00Z",
    body: str = "",
    **fields: Any,
) -> Path:
    """Write one canonical block file (fields: subject=…, object=…, constraint={…}, edges={…} …)."""
    meta = {"id": block_id, "type": type_of_id(block_id), "title": title, "status": status, "created": created}
    meta.update({key.rstrip("_"): value for key, value in fields.items()})
    block = from_mapping(meta, body, "test")
    path = repo / "memory" / block_relpath(block)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(block), encoding="utf-8")
    return path


def rule(axis: str, scope: str, modality: str, obj: str) -> dict[str, str]:
    return {"axis": axis, "scope": scope, "modality": modality, "object": obj}


def codes(result_json: dict[str, Any]) -> list[str]:
    return sorted(f["code"] for f in result_json["findings"])
