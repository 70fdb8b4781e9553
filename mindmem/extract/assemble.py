"""From an `Extraction` to block files: draw IDs, resolve `key:` edges, validate everything first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from mindmem.errors import BadInput, BlockError
from mindmem.extract.base import Candidate, Extraction
from mindmem.store import blocks as b
from mindmem.store.changes import Changes, block_path, encode

KEY_PREFIX = "key:"


def to_blocks(extraction: Extraction, *, author: str, when: datetime, taken: Callable[[str], bool]) -> list[b.Block]:
    """The new blocks an extraction proposes, in candidate order. Existing entities make no block.

    Raises BadInput naming the candidate (and its source span) when one does not make a valid block,
    before anything is written.
    """
    ids: dict[str, str] = {}
    drawn: set[str] = set()
    for cand in extraction.candidates:
        if cand.id:
            b.check_id(cand.id, cand.type)
            ids[cand.key] = cand.id
        else:
            ids[cand.key] = b.new_id(
                cand.type, title=cand.title, author=author, when=when, taken=lambda i: taken(i) or i in drawn
            )
        drawn.add(ids[cand.key])
    out = []
    for cand in extraction.candidates:
        if cand.existing:
            continue
        meta: dict[str, Any] = {
            **cand.fields,
            "id": ids[cand.key],
            "type": cand.type,
            "title": cand.title,
            "status": cand.fields.get("status", b.DEFAULT_STATUS.get(cand.type, "active")),
            "created": b.format_time(when),
            "author": author,
        }
        edges: dict[str, list[str]] = {}
        for edge_type, target in cand.edges:
            resolved = ids.get(target.removeprefix(KEY_PREFIX)) if target.startswith(KEY_PREFIX) else target
            if resolved is None:
                raise BadInput(f"candidate '{cand.key}' has an edge to unknown candidate {target}")
            if resolved != ids[cand.key] and resolved not in edges.get(edge_type, []):
                edges.setdefault(edge_type, []).append(resolved)
        if edges:
            meta["edges"] = edges
        try:
            out.append(b.from_mapping(meta, cand.body, _where(cand)))
        except BlockError as exc:
            raise BadInput(f"candidate '{cand.key}' is not a valid block: {exc.reason} ({_where(cand)})") from None
    return out


def to_changes(blocks: list[b.Block], root: str) -> Changes:
    return {block_path(root, block): encode(block) for block in blocks}


def _where(cand: Candidate) -> str:
    excerpt = " ".join(cand.span.text.split())
    excerpt = excerpt if len(excerpt) <= 60 else excerpt[:57] + "..."
    return f"from characters {cand.span.start}-{cand.span.end}: {excerpt!r}"
