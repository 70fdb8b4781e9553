"""Edits as agents send them (MCP `staged_change` edits), and the library's inline edit they become."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mindmem.errors import BadInput
from mindmem.store.changes import InlineEdit
from mindmem.vocabulary import EDIT_ACTIONS, choices


@dataclass(frozen=True)
class Edit:
    """One inline edit of a staged change: add a block, edit or revoke one (as `mm propose` does)."""

    action: str  # add | edit | revoke
    type: str | None = None
    id: str | None = None
    title: str | None = None
    body: str | None = None
    fields: Mapping[str, Any] | None = None
    edges: Sequence[tuple[str, str]] = ()
    supersedes: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Edit:
        """An edit as agents send it: `{"action": "add", "type": …, "edges": [["cites", ID]], …}`."""
        unknown = set(data) - {"action", "type", "id", "title", "body", "fields", "edges", "supersedes"}
        if unknown:
            raise BadInput(f"edit has unknown keys: {', '.join(sorted(unknown))}")
        edges = data.get("edges") or []
        if not all(isinstance(e, (list, tuple)) and len(e) == 2 for e in edges):
            raise BadInput("edit edges must be [edge_type, target_id] pairs")
        return cls(
            action=data.get("action", "add"),
            type=data.get("type"),
            id=data.get("id"),
            title=data.get("title"),
            body=data.get("body"),
            fields=data.get("fields"),
            edges=tuple((str(t), str(x)) for t, x in edges),
            supersedes=data.get("supersedes"),
        )


def inline_edit(edit: Edit) -> InlineEdit:
    """An agent's edit as the library's inline edit; the library refuses what does not go together."""
    if edit.action not in EDIT_ACTIONS:
        raise BadInput(f"edit action '{edit.action}' is not one of {choices(EDIT_ACTIONS)}")
    fields = dict(edit.fields or {})
    if edit.title:
        fields["title"] = edit.title
    return InlineEdit(
        add=edit.type if edit.action == "add" else None,
        edit=edit.id if edit.action == "edit" else None,
        revoke=(edit.id,) if edit.action == "revoke" and edit.id else (),
        supersede=edit.supersedes,
        fields=fields,
        edges=tuple(edit.edges),
        body=edit.body,
    )
