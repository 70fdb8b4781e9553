"""Blocks from a folder of Markdown notes with frontmatter and wiki links (basic-memory, Obsidian).

Each note becomes a block: `note` unless its frontmatter `type` names a mindmem type
(`decision`, `task`, `person` …). Its title comes from the frontmatter, the first
heading or the file name; tags from the frontmatter and `#hashtags`; `[[Other note]]`
links between imported notes become `relates_to` edges, and the link itself is rewritten
to `[[ID|Other note]]` (Obsidian's alias syntax) so it still resolves and still reads the
same once the note lives at ID.md. The title goes into `aliases`, so Obsidian shows it.
IDs are drawn from the note's path, so the same folder always gives the same blocks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

from mindmem.errors import BadInput, BlockError
from mindmem.imports.common import Imported, title_from
from mindmem.store import blocks as b
from mindmem.store import walk, yaml_guard
from mindmem.store.text import decode

_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)
_WIKI = re.compile(r"\[\[([^\]|#\n]+)(#[^\]|\n]*)?(\|[^\]\n]*)?\]\]")
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
        body, links = rewrite_links(note["body"], lambda name: _lookup(by_name, name))
        links = [link for link in links if link != note["meta"]["id"]]
        meta = dict(note["meta"])
        if links:
            meta["edges"] = {"relates_to": links}
        out.append(Imported(meta, body, note["source"]))
    return out


def _lookup(by_name: dict[str, str], name: str) -> str | None:
    name = name.strip()
    return by_name.get(name.lower()) or by_name.get(Path(name).stem.lower())


def rewrite_links(body: str, resolve: Callable[[str], str | None]) -> tuple[str, list[str]]:
    """`[[Note title]]` -> `[[ID|Note title]]` (a heading and a shown text are kept) outside code;
    links that name no imported note are left as they are. Returns the body and the IDs linked."""
    found: list[str] = []

    def one(match: re.Match[str]) -> str:
        target, heading, shown = match.group(1), match.group(2) or "", match.group(3)
        block_id = resolve(target)
        if block_id is None:
            return match.group(0)
        if block_id not in found:
            found.append(block_id)
        return f"[[{block_id}{heading}{shown or '|' + target.strip()}]]"

    pieces, last = [], 0
    for code in _FENCE.finditer(body):
        pieces += [_WIKI.sub(one, body[last : code.start()]), code.group(0)]
        last = code.end()
    pieces.append(_WIKI.sub(one, body[last:]))
    return "".join(pieces), found


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
    own = aliases if isinstance(aliases, list) and all(isinstance(a, str) for a in aliases) else []
    meta["aliases"] = list(dict.fromkeys([title, *own]))  # Obsidian shows a note by its first alias
    names = [title, path.stem, rel.removesuffix(".md"), *own]
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
