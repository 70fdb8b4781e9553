"""Block change sets: what a proposal writes, built from files, streams or inline edits, and diffed.

Pure: inputs are bytes and Blocks, outputs are `{repo path: bytes | None}` and diffs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mindmem.errors import BadInput, BadParameter, BlockError, DuplicateId, NotFound
from mindmem.store import blocks as b
from mindmem.store.blocks import Block
from mindmem.store.snapshot import id_of_path, is_block_path

Changes = dict[str, "bytes | None"]

_STREAM_START = re.compile(r"^---[ \t]*\r?\n(?=id:\s)", re.MULTILINE)


def block_path(root: str, block: Block) -> str:
    return f"{root}/{b.block_relpath(block)}"


def encode(block: Block) -> bytes:
    return b.render(block).encode("utf-8")


def from_texts(texts: Iterable[tuple[str, bytes | str]], root: str) -> Changes:
    """Block files from anywhere: each is parsed, validated and placed at its canonical path."""
    changes: Changes = {}
    sources: dict[str, str] = {}
    for source, data in texts:
        block = b.parse(data, source)
        path = block_path(root, block)
        if path in changes:
            raise DuplicateId(source, block.id, sources[path])
        changes[path] = encode(block)
        sources[path] = source
    if not changes:
        raise BadInput("no blocks given")
    return changes


def split_stream(text: str, source: str = "<stdin>") -> list[tuple[str, str]]:
    """Split concatenated blocks: a new block starts at a `---` line directly followed by `id:`."""
    starts = [m.start() for m in _STREAM_START.finditer(text)]
    if not starts or text[: starts[0]].strip():
        raise BlockError(source, "a block stream must start with a '---' line followed by 'id:'", 1)
    bounds = [*starts, len(text)]
    return [(f"{source}#{n + 1}", text[bounds[n] : bounds[n + 1]]) for n in range(len(starts))]


def check_worktree_changes(changes: Mapping[str, bytes | None], root: str) -> None:
    """Every changed block file must parse and sit at its canonical path (so IDs stay unique)."""
    for path, data in changes.items():
        if data is None or not is_block_path(path):
            continue
        block = b.parse(data, path)
        if path != block_path(root, block):
            raise BlockError(path, f"block {block.id} should live at {block_path(root, block)}")


def new_block(
    kind: str,
    *,
    title: str,
    fields: Mapping[str, Any],
    edges: Iterable[tuple[str, str]],
    author: str,
    when: datetime,
    taken: Callable[[str], bool],
    body: str = "",
    block_id: str | None = None,
    root: str | None = None,
) -> Block:
    """A new, validated block of `kind` (a type, or an entity kind such as `person`).

    The ID is drawn unless given; `fields` may not set `id` or `type`; `edges` add to any
    `edges` mapping in `fields`. Errors name the block's future path (under `root`, if given).
    """
    block_type, prefix = resolve_kind(kind)
    if block_id is None and prefix is None:
        # PER-billing for a project would be wrong, so an entity needs its kind (or an explicit ID).
        kinds = "|".join(b.ENTITY_KINDS)
        raise BadInput(
            f"an entity needs its kind: use `mm new {kinds}` (or --add {kinds}), or give --id (e.g. PRJ-billing)"
        )
    if block_id is None:
        block_id = b.new_id(block_type, title=title, author=author, when=when, taken=taken, prefix=prefix)
    else:
        b.check_id(block_id, block_type)
        if taken(block_id):
            raise BadInput(f"block {block_id} already exists")
    meta: dict[str, Any] = {
        "id": block_id,
        "type": block_type,
        "title": title,
        "status": b.DEFAULT_STATUS[block_type],
        "created": b.format_time(when),
        "author": author,
    }
    for key, value in fields.items():
        if key in ("id", "type"):
            raise BadParameter(f"{key} is not a field to set; give it as {{{key}}}")
        meta[key] = value
    edges = list(edges)
    if edges:
        edge_map = meta.get("edges") or {}
        if not isinstance(edge_map, dict):
            raise BadParameter("{edges} must be a mapping like {cites: [F-20261120-aa10f3]}")
        edge_map = {k: v if isinstance(v, list) else [v] for k, v in edge_map.items()}
        for edge_type, target in edges:
            edge_map.setdefault(edge_type, []).append(target)
        meta["edges"] = edge_map
    relpath = b.id_relpath(block_id)
    return b.from_mapping(meta, body, f"{root}/{relpath}" if root else relpath)


def edit(block: Block, fields: Mapping[str, Any], body: str | None = None) -> Block:
    """The block with some frontmatter fields replaced (None removes a field); validated again."""
    meta = block.to_mapping()
    for key, value in fields.items():
        if key in ("id", "type"):
            raise BadInput(f"cannot change '{key}' of {block.id}; propose a new block that supersedes it")
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    return b.from_mapping(meta, block.body if body is None else body.strip("\n"), block.id)


def with_edges(block: Block, edges: Iterable[tuple[str, str]]) -> Block:
    current = {t: list(ids) for t, ids in block.edges}
    for edge_type, target in edges:
        if edge_type not in b.EDGE_TYPES:
            raise BadInput(f"unknown edge type '{edge_type}'; expected one of {', '.join(b.EDGE_TYPES)}")
        b.check_id(target)
        if target == block.id:
            raise BadInput(f"{block.id} cannot have an edge to itself")
        if target not in current.setdefault(edge_type, []):
            current[edge_type].append(target)
    meta = block.to_mapping()
    meta["edges"] = {t: ids for t, ids in current.items() if ids}
    if not meta["edges"]:
        del meta["edges"]
    return b.from_mapping(meta, block.body, block.id)


def resolve_kind(kind: str) -> tuple[str, str | None]:
    """`person` -> (entity, PER); `decision` -> (decision, D)."""
    if kind in b.ENTITY_KINDS:
        return "entity", b.ENTITY_KINDS[kind]
    if kind in b.TYPES:
        return kind, None if kind == "entity" else b.TYPE_PREFIXES[kind][0]
    choices = ", ".join([*b.TYPES, *b.ENTITY_KINDS])
    raise BadInput(f"unknown block type '{kind}'; expected one of {choices}")


# -- diffs -----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    key: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.key, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class BlockDiff:
    """One block's change: added, changed or removed, field by field, with a body diff."""

    block_id: str
    action: str
    path: str
    title: str
    fields: tuple[FieldChange, ...]
    body: tuple[str, ...]
    edges_added: tuple[tuple[str, str], ...]
    edges_removed: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.block_id,
            "action": self.action,
            "path": self.path,
            "title": self.title,
            "fields": [f.to_json() for f in self.fields],
            "body_diff": list(self.body),
            "edges_added": [{"type": t, "target": x} for t, x in self.edges_added],
            "edges_removed": [{"type": t, "target": x} for t, x in self.edges_removed],
        }


def diff_blocks(changed: Mapping[str, tuple[bytes | None, bytes | None]]) -> list[BlockDiff]:
    """Field-level diffs of block files, from `{path: (old bytes, new bytes)}`; other files are skipped."""
    out = []
    for path in sorted(changed):
        if not is_block_path(path):
            continue
        old_data, new_data = changed[path]
        old = b.parse(old_data, path) if old_data is not None else None
        new = b.parse(new_data, path) if new_data is not None else None
        out.append(diff_block(path, old, new))
    return out


def diff_block(path: str, old: Block | None, new: Block | None) -> BlockDiff:
    some = new or old
    assert some is not None
    old_meta = old.to_mapping() if old else {}
    new_meta = new.to_mapping() if new else {}
    fields = tuple(
        FieldChange(key, old_meta.get(key), new_meta.get(key))
        for key in {**old_meta, **new_meta}
        if old_meta.get(key) != new_meta.get(key)
    )
    body = _body_diff(old.body.splitlines() if old else [], new.body.splitlines() if new else [])
    old_edges = set(old.all_edges()) if old else set()
    new_edges = set(new.all_edges()) if new else set()
    return BlockDiff(
        block_id=some.id,
        action="added" if old is None else "removed" if new is None else "changed",
        path=path,
        title=some.title,
        fields=fields,
        body=body,
        edges_added=tuple(sorted(new_edges - old_edges)),
        edges_removed=tuple(sorted(old_edges - new_edges)),
    )


def _body_diff(old: list[str], new: list[str]) -> tuple[str, ...]:
    """`difflib.unified_diff` of two bodies, with one line of context. An added or removed block is
    written out directly: the same lines, without the matcher (a 5,000-block import is all additions)."""
    if (old and new) or old == new:
        return tuple(difflib.unified_diff(old, new, "before", "after", lineterm="", n=1))
    sign, lines = ("+", new) if new else ("-", old)
    span = "1" if len(lines) == 1 else f"1,{len(lines)}"
    hunk = f"@@ -0,0 +{span} @@" if new else f"@@ -{span} +0,0 @@"
    return ("--- before", "+++ after", hunk, *(sign + line for line in lines))


def block_ids(changes: Mapping[str, bytes | None], before: Mapping[str, bytes | None] | None = None) -> list[str]:
    """IDs of the block files a change set touches, from their new or old contents."""
    ids = []
    for path, data in changes.items():
        if not is_block_path(path):
            continue
        source = data if data is not None else (before or {}).get(path)
        if source is not None:
            ids.append(b.parse(source, path).id)
        else:
            ids.append(id_of_path(path))
    return sorted(set(ids))


# -- inline edits ---------------------------------------------------------------------


@dataclass(frozen=True)
class InlineEdit:
    """`mm propose --add/--edit/--supersede/--revoke` as data."""

    add: str | None = None
    edit: str | None = None
    supersede: str | None = None
    revoke: tuple[str, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)
    edges: tuple[tuple[str, str], ...] = ()
    body: str | None = None


def inline_changes(
    request: InlineEdit,
    *,
    root: str,
    lookup: Callable[[str], Block | None],
    author: str,
    when: datetime,
) -> Changes:
    """The file changes an inline edit makes, against blocks found with `lookup` (the governed head)."""

    def existing(block_id: str) -> Block:
        b.check_id(block_id)
        found = lookup(block_id)
        if found is None:
            raise NotFound(f"no block {block_id} on the governed branch")
        return found

    if request.supersede and not request.add:
        raise BadParameter("{supersede} goes with {add} (the new block that replaces it)")
    if request.add and request.edit:
        raise BadParameter("give {add} or {edit}, one at a time")
    changes: Changes = {}
    if request.add:
        fields = dict(request.fields)
        title = fields.pop("title", None)
        if not isinstance(title, str) or not title.strip():
            raise BadParameter("{add} needs a {title}")
        block = new_block(
            request.add,
            title=title,
            fields=fields,
            edges=request.edges,
            author=author,
            when=when,
            taken=lambda block_id: lookup(block_id) is not None,
            body=request.body or "",
        )
        if request.supersede:
            old = existing(request.supersede)
            block = with_edges(block, [("supersedes", old.id)])
            changes[block_path(root, old)] = encode(edit(old, {"status": "superseded"}))
        changes[block_path(root, block)] = encode(block)
    if request.edit:
        old = existing(request.edit)
        changes[block_path(root, old)] = encode(with_edges(edit(old, request.fields, request.body), request.edges))
    for block_id in request.revoke:
        old = existing(block_id)
        changes[block_path(root, old)] = encode(edit(old, {"status": "revoked"}))
    if not changes:
        raise BadParameter("nothing to propose: give {add}, {edit} or {revoke}")
    return changes
