"""Wiki links in a block's body: `[[ID]]`, `[[ID|alias]]`, `[[ID#heading]]`, outside code only."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from mindmem.store.format.ids import ID_RE

# `[[ID]]`, and Obsidian's `[[ID|shown text]]` and `[[ID#Heading]]` / `[[ID#^block]]`: group 1 is the target.
WIKI_LINK_RE = re.compile(r"\[\[([^\[\]|#\n]+)(?:#[^\[\]|\n]*)?(?:\|[^\[\]\n]*)?\]\]")
# Where a regex over the text finds exactly what markdown-it would: no HTML, entities or escapes
# (`<&\\`), no fences or indentation that may make code (`~~~`, 4 spaces, tabs), no link syntax that
# could swallow a `[[…]]`. A `]:` may end a link reference definition's label, whose title then hides a
# `[[…]]`, but not after a `]`: a label holds no unescaped bracket (`- [[ID]]: text` is prose). Code
# spans (backticks) are handled by `_without_code_spans`.
_NEEDS_PARSER = re.compile(r"[<&\\\t]|~~~| {4}|\]\(|\]\[|(?<!\])\]:")
_TICKS = re.compile(r"`+")


def wiki_links(body: str) -> tuple[str, ...]:
    """`[[ID]]` targets (also `[[ID|alias]]`, `[[ID#heading]]`) in Markdown text, outside code spans,
    fences and indented code."""
    if "[[" not in body:
        return ()
    # Most bodies are prose with a few code spans: the regex is exact there and ~50x cheaper than parsing.
    text = None if _NEEDS_PARSER.search(body) else _without_code_spans(body)
    if text is None:
        return wiki_links_parsed(body)
    matches = list(WIKI_LINK_RE.finditer(text))
    if any(ch in m.group(0) for m in matches for ch in "*_"):
        return wiki_links_parsed(body)  # emphasis may split a link
    return _ids(m.group(1) for m in matches)


def wiki_links_parsed(body: str) -> tuple[str, ...]:
    """`wiki_links` by the CommonMark parse: link text only from text runs of inline tokens."""
    targets: list[str] = []
    for token in markdown_parser().parse(body):
        if token.type != "inline" or not token.children:
            continue
        run: list[str] = []
        for child in [*token.children, None]:
            if child is not None and child.type in ("text", "softbreak"):
                run.append(child.content if child.type == "text" else "\n")
                continue
            targets += [m.group(1) for m in WIKI_LINK_RE.finditer("".join(run))]
            run = []
    return _ids(targets)


def _without_code_spans(body: str) -> str | None:
    """The body with each code span replaced by a line break, when every backtick run opens and closes
    a span on its own line (then no block structure can change the pairing); else None."""
    if "`" not in body:
        return body
    lines = []
    for line in body.split("\n"):
        runs = list(_TICKS.finditer(line))
        kept, last, i = [], 0, 0
        while i < len(runs):
            closer = next((j for j in range(i + 1, len(runs)) if len(runs[j].group()) == len(runs[i].group())), None)
            if closer is None:
                return None  # it might close on a later line, or be literal: let the parser decide
            kept.append(line[last : runs[i].start()])
            last, i = runs[closer].end(), closer + 1
        kept.append(line[last:])
        lines.append("\n".join(kept))
    return "\n".join(lines)


def _ids(targets: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for target in targets:
        if ID_RE.match(target) and target not in found:
            found.append(target)
    return tuple(found)


@cache
def markdown_parser() -> Any:
    """One CommonMark parser for the process (building one costs more than parsing a block)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")
