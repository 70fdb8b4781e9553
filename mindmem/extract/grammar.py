"""The GBNF grammar that holds a llama-cpp reply to the schema, token by token.

Written by hand rather than converted from the JSON schema, because it says what a schema cannot:
candidate n is keyed `cn` and follows candidate n-1; its edges may target only c1 … c(n-1) or a
block ID the prompt listed; `line` is one of the chunk's line numbers. The layout is fixed
(`{"key": "c1", "type": ...}`), so the model spends no tokens on whitespace, and the reply ends
the moment the closing `]}` is written (the grammar then allows only end-of-text).

Strings hold no control characters (C0, DEL, C1), raw or escaped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from mindmem.extract.reply import MAX_EDGES, NAME_MAX, PLAIN_TYPES, TITLE_MAX
from mindmem.store import blocks as b

_CHARS = r'char ::= [^"\\\x00-\x1F\x7F-\x9F] | "\\" ["\\/]'


def _lit(text: str) -> str:
    """A GBNF literal for `text` (JSON string escaping is the same as GBNF's for our characters)."""
    return json.dumps(text)


def _alt(values: Sequence[str]) -> str:
    return " | ".join(_lit(json.dumps(v)) for v in values)


def reply_grammar(lines: int, targets: Sequence[str] = (), candidates: int = 16) -> str:
    """GBNF for a reply with at most `candidates` candidates pointing at lines 1…`lines`."""
    line, title = _lit(', "line": '), _lit(', "title": ')
    rules = [
        "root ::= " + _lit('{"candidates": [') + f" ({_nested(1, candidates)})? " + _lit("]}"),
        "line ::= " + " | ".join(_lit(str(n)) for n in range(1, lines + 1)),
        f'title ::= "\\"" char{{1,{TITLE_MAX}}} "\\""',
        f'name ::= "\\"" char{{1,{NAME_MAX}}} "\\""',
        r'date ::= "\"" [0-9] [0-9] [0-9] [0-9] "-" [0-1] [0-9] "-" [0-3] [0-9] "\""',
        _CHARS,
        "edge-type ::= " + _alt(b.EDGE_TYPES),
        "kind ::= " + _alt(list(b.ENTITY_KINDS)),
        "typed ::= plain | task | entity",
        "plain ::= " + _lit('"type": ') + f" ({_alt(PLAIN_TYPES)}) {line} line {title} title",
        "task ::= "
        + _lit('"type": "task"')
        + f" {line} line {title} title "
        + _lit(', "assignee": ')
        + ' (name | "null") '
        + _lit(', "due": ')
        + ' (date | "null")',
        "entity ::= " + _lit('"type": "entity"') + f" {line} line {title} name " + _lit(', "kind": ') + " kind",
    ]
    for n in range(1, candidates + 1):
        opening = _lit('{"key": "c' + str(n) + '", ')
        rules.append(f"cand{n} ::= {opening} typed " + _lit(', "edges": ') + f' edges{n} "}}"')
        allowed = [f"c{k}" for k in range(1, n)] + list(targets)
        if not allowed:
            rules.append(f'edges{n} ::= "[]"')
            continue
        rules.append(f'edges{n} ::= "[]" | "[" edge{n} (", " edge{n}){{0,{MAX_EDGES - 1}}} "]"')
        target = _lit(', "target": ')
        rules.append(f"edge{n} ::= " + _lit('{"type": ') + f" edge-type {target} ({_alt(allowed)}) " + '"}"')
    return "\n".join(rules)


def _nested(n: int, last: int) -> str:
    """`cand1 (", " cand2 (", " cand3)?)?`: candidates in order, as many as the model writes."""
    return f"cand{n}" if n == last else f'cand{n} (", " {_nested(n + 1, last)})?'
