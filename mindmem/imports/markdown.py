"""Blocks from a folder of Markdown notes with frontmatter and wiki links (basic-memory, Obsidian).

Each note becomes a block: `note` unless its frontmatter `type` names a mindmem type
(`decision`, `task`, `person` …). Its title comes from the frontmatter, the first
heading or the file name; tags from the frontmatter and `#hashtags`; `[[Other note]]`
links between imported notes become `relates_to` edges. IDs are drawn from the note's
path, so the same folder always gives the same blocks.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

from mindmem import blocks as b
from mindmem import walk, yaml_guard
from mindmem.errors import BadInput, BlockError
from mindmem.imports.common import Imported, title_from
from mindmem.text import decode

_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)
_WIKI = re.compile(r"\[\[([^\]|#\n]+)(?:#[^\]|\n]*)?(?:\|[^\]\n]*)?\]\]")
_HASHTAG = re.compile(r"(?<![\w&/#])#([A-Za-z][\w/-]{1,40})")
_FENCE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
_FRONTMATTER = YAMLHandler()
_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
KINDS = {"decision": "decision", "fact": "fact", "task": "task", "incident": "incident", "note": "note",
         **{kind: "entity" for kind in b.ENTITY_KINDS}}  # fmt: skip


def read_folder(root: Path) -> list[Imported]:
    """Every note under `root`: regular files only; a symlink or special file named *.md refuses the import."""
    if not root.is_dir():
        raise BadInput(f"{root}: not a folder of Markdown notes")
    notes = []
    for rel, data in walk.tree(str(root), ".", b.MAX_BLOCK_BYTES):
        rel = rel.removeprefix("./")
        if not rel.endswith(".md"):
            continue
        if isinstance(data, BlockError):
            raise BadInput(f"{root / rel}: cannot import: {data.reason}") from None
        notes.append(_read(root / rel, rel, data))
    if not notes:
        raise BadInput(f"{root}: no Markdown notes (*.md) found")
    by_name: dict[str, str] = {}
    for note in notes:
        for name in note["names"]:
            by_name.setdefault(name.lower(), note["meta"]["id"])
    out = []
    for note in notes:
        links = []
        for target in _WIKI.findall(_FENCE.sub("", note["body"])):
            block_id = by_name.get(target.strip().lower()) or by_name.get(Path(target.strip()).stem.lower())
            if block_id and block_id != note["meta"]["id"] and block_id not in links:
                links.append(block_id)
        meta = dict(note["meta"])
        if links:
            meta["edges"] = {"relates_to": links}
        out.append(Imported(meta, note["body"], note["source"]))
    return out


def _read(path: Path, rel: str, data: bytes) -> dict[str, Any]:
    text = decode(data, rel)
    try:
        if _FRONTMATTER.detect(text):
            # Refuse anchors, duplicate keys and huge numbers before python-frontmatter builds anything.
            yaml_guard.check(_FRONTMATTER.split(text)[0], _LOADER)
        post = frontmatter.loads(text)
    except yaml_guard.Refused as exc:
        raise BadInput(f"{rel}:{exc.line + 1}: invalid frontmatter: {exc.message}") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise BadInput(f"{rel}: invalid frontmatter: {_one_line(exc)}") from None
    fm, body = post.metadata, post.content.strip("\n")
    heading = _HEADING.search(body)
    title = title_from(str(fm.get("title") or (heading.group(1) if heading else path.stem.replace("-", " "))))
    kind = KINDS.get(str(fm.get("type", "note")).lower(), "note")
    when = _date(fm.get("created") or fm.get("date")) or datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
    if kind == "entity":
        prefix = b.ENTITY_KINDS[str(fm["type"]).lower()]
        block_id = f"{prefix}-{b.slugify(title)}"
    else:
        digest = hashlib.sha256(f"markdown:{rel}".encode()).hexdigest()[:6]
        block_id = f"{b.TYPE_PREFIXES[kind][0]}-{when.strftime('%Y%m%d')}-{digest}"
    meta: dict[str, Any] = {
        "id": block_id,
        "type": kind,
        "title": title,
        "status": _status(fm.get("status"), kind),
        "created": f"{when.isoformat()}T00:00:00Z",
        "imported_from": f"markdown:{rel}",
    }
    tags = _tags(fm.get("tags")) + [t for t in _HASHTAG.findall(_FENCE.sub("", body)) if t not in _tags(fm.get("tags"))]
    if tags:
        meta["tags"] = list(dict.fromkeys(tags))
    aliases = fm.get("aliases")
    if isinstance(aliases, list) and all(isinstance(a, str) for a in aliases):
        meta["aliases"] = aliases
    names = [title, path.stem, rel.removesuffix(".md"), *meta.get("aliases", [])]
    if fm.get("permalink"):
        names.append(str(fm["permalink"]))
    return {"meta": meta, "body": body, "source": rel, "names": names}


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        return [t.strip().lstrip("#") for t in re.split(r"[,\s]+", value) if t.strip()]
    if isinstance(value, list):
        return [str(t).strip().lstrip("#") for t in value if str(t).strip()]
    return []


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).date()
        except ValueError:
            return None
    return None


def _status(value: Any, kind: str) -> str:
    status = str(value).strip().lower() if value else ""
    return status if status in b.STATUSES[kind] else b.DEFAULT_STATUS[kind]
