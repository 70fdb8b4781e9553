"""What goes into the index for a block: the whoosh schema and one document per block (pure)."""

from __future__ import annotations

import re
from typing import Any

from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from mindmem.search.terms import NOT_NAMES, TEXT_ANALYZER, TIME_RE, WORD_RE, entity_terms, id_terms, utc
from mindmem.store.blocks import TYPE_PREFIXES, Block, markdown_parser

# When the schema or what goes into a field changes, bump FORMAT_VERSION (`index_format`): older indexes are
# then rebuilt.

_ENTITY_PREFIXES = TYPE_PREFIXES["entity"]


def schema() -> Schema:
    # Only what a query searches is indexed and only what a result shows is stored: every indexed term is a
    # posting the build writes, and most of a build's time is whoosh writing postings.
    return Schema(
        id=ID(stored=True, unique=True),
        path=ID(stored=True, unique=True),
        type=ID(stored=True),
        status=ID(stored=True),
        title=TEXT(stored=True, analyzer=TEXT_ANALYZER, phrase=False),
        headings=TEXT(analyzer=TEXT_ANALYZER, phrase=False),
        body=TEXT(analyzer=TEXT_ANALYZER, phrase=False),
        tags=KEYWORD(lowercase=True, commas=True, scorable=True),
        entities=KEYWORD(lowercase=True, scorable=True),
        # The entities a block is about: its subject, its constraint's scope, itself if an entity.
        about=KEYWORD(lowercase=True, scorable=True),
        # What kind of answer the text can give: "time" when it says when something happened.
        cues=KEYWORD(),
        subject=ID,
        # "edge_type:target" and the bare target, for reverse lookups ("who supersedes X?").
        links=KEYWORD,
        # Body wiki links, kept so reading a block back never re-runs markdown-it to find them.
        wiki=STORED(),
        # The git blob the document was made from: reading the block back is one object lookup.
        blob=STORED(),
        # When the block was written, as shown in results and for blocks written at the same moment;
        # no query ranges over dates, so it is stored, not indexed.
        created=STORED(),
    )


# -- what goes into the index (pure) ---------------------------------------------


def document(block: Block, path: str) -> dict[str, Any]:
    """The whoosh document for a block: markdown headings apart from the body text, entities, links, dates."""
    headings, text = sections(block.body)
    links = [token for edge_type, target in block.all_edges() for token in (f"{edge_type}:{target}", target)]
    doc: dict[str, Any] = {
        "id": block.id,
        "path": path,
        "type": block.type,
        "status": block.status,
        "title": block.title,
        "headings": "\n".join([*headings, *statement_words(block)]),
        "body": "\n".join(text),
        "tags": ",".join(block.tags),
        "entities": " ".join(block_entities(block)),
        "about": " ".join(about_entities(block)),
        "cues": "time" if TIME_RE.search(f"{block.title}\n{block.body}") else "",
        "links": " ".join(dict.fromkeys(links)),
        "wiki": " ".join(block.wiki_links),
        "created": utc(block.created).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if block.subject:
        doc["subject"] = block.subject
    return doc


def statement_words(block: Block) -> list[str]:
    """The structured claim of a block in words (a constraint's axis and object, a fact's predicate and
    object), so "storage engine" finds the decision whose constraint is on `storage.engine`."""
    parts = [block.predicate or "", block.obj or ""]
    if block.constraint is not None:
        parts += [block.constraint.axis, block.constraint.obj]
    return [re.sub(r"[._]+", " ", p) for p in parts if p]


# Markdown that `sections` reads line by line (most bodies: paragraphs, ATX headings, flat lists); a line
# whose text, after any list marker or indentation, opens anything else sends the body to the parser.
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
_HEADING_RE = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_ITEM_RE = re.compile(r" {0,3}(?:[-*+]|[0-9][.)]) +(?=\S)")
_OPENS_BLOCK_RE = re.compile(r"[#>*+=_`~<\t-]|\d{1,9}[.)]|\[[^\]]*\]:")


def sections(body: str) -> tuple[list[str], list[str]]:
    """(headings, other text) of a Markdown body, with the terms the CommonMark parse would give; code is text."""
    if not body.strip():
        return [], []
    # The parse costs a few ms a block, most of what indexing one costs; read line by line where the
    # lines alone decide what is a heading (a list item's text, like a paragraph's, is text).
    headings: list[str] = []
    text: list[str] = []
    for line in _LINE_BREAK_RE.split(body):
        if _HEADING_RE.match(line):
            headings.append(line)
            continue
        item = _ITEM_RE.match(line)
        rest = line[item.end() :] if item else line.lstrip(" ")
        if _OPENS_BLOCK_RE.match(rest):
            return parsed_sections(body)
        text.append(rest)
    return headings, text


def parsed_sections(body: str) -> tuple[list[str], list[str]]:
    """`sections` by the CommonMark parse, whatever the body holds."""
    headings: list[str] = []
    text: list[str] = []
    in_heading = False
    for token in markdown_parser().parse(body):
        if token.type == "heading_open":
            in_heading = True
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "inline" or token.type in ("fence", "code_block"):
            (headings if in_heading else text).append(token.content)
    return headings, text


def block_entities(block: Block) -> list[str]:
    """Entity terms of a block: its own ID and name if it is an entity, its subject and scope, the entity IDs
    it links to, IDs in its text, and capitalised names; all lowercase."""
    texts = [block.title, block.body]
    ids = [block.subject or "", *(t for _, t in block.all_edges() if t.split("-", 1)[0] in _ENTITY_PREFIXES)]
    if block.constraint is not None:
        ids.append(block.constraint.scope)
    if block.type == "entity":
        ids.append(block.id)
        # An entity's title and aliases are names even at the start of a sentence.
        ids += [word for name in (block.title, *block.aliases) for word in WORD_RE.findall(name)]
    return list(dict.fromkeys(t for t in (*id_terms(ids), *entity_terms(" \n".join(texts))) if t))


def about_entities(block: Block) -> list[str]:
    """Entity terms of who or what the block is about, lowercase: its subject, constraint scope, the
    entity itself, and the words of its author's name (who said something is a signal, as the subject is)."""
    ids = [block.subject or ""]
    if block.constraint is not None:
        ids.append(block.constraint.scope)
    if block.type == "entity":
        ids.append(block.id)
    author = [w.lower() for w in WORD_RE.findall(block.author or "") if w.lower() not in NOT_NAMES]
    return list(dict.fromkeys([*id_terms(ids), *author]))
