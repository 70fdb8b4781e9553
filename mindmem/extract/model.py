"""What every model backend shares: the prompt, chunking, one validated reply per chunk, merging.

A backend (llama-cpp, ctransformers, openai) only says how to count tokens and how to get one
reply for a list of chat messages held to a JSON schema; `ModelExtractor.extract` does the rest.
The system prompt is the same for every call, so a backend that keeps its KV cache between
calls (llama-cpp) evaluates it once per process.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mindmem import blocks as b
from mindmem.config import user_config
from mindmem.errors import BadInput, NotFound
from mindmem.extract.base import Candidate, Context, Extraction
from mindmem.extract.schema import MAX_CANDIDATES, reply_schema, validate_reply

Messages = list[dict[str, str]]

SYSTEM_PROMPT = f"""\
You turn a piece of a conversation, meeting notes or a log into memory blocks for a team's memory.
Reply with one JSON object and nothing else: {{"candidates": [...]}}, at most {MAX_CANDIDATES} candidates.
Each candidate is an object with these keys:
- "key": c1 for the first candidate, c2 for the second, and so on; other candidates' edges point at it.
- "type": decision (something the team decided), fact (something true), task (something to do),
  incident (something that went wrong), note (anything else worth keeping) or entity (a person, project,
  tool or organisation that is mentioned).
- "span": the sentence of the text the candidate comes from, copied exactly.
- "title": one line that says the decision, fact, task or incident in plain words (not an ID).
- "body": more detail from the text, or "".
- "fields": {{"subject", "predicate", "object": what the statement is about and says, or null;
  "status": null, or for a task todo, doing, blocked, done or canceled;
  "due": for a task, a date YYYY-MM-DD or null (turn "next Friday" into a date using today's date);
  "tags": a list of short words;
  entities also have "kind": person, project, tool or org}}.
- "edges": a list of {{"type", "target"}}; type is one of {", ".join(b.EDGE_TYPES)};
  target is the key of another candidate or the ID of a block listed under "Known blocks".
  Use supersedes when the text replaces a known decision.
- "confidence": 0.0 to 1.0, how sure you are that the text says this.
Only extract what the text says. If nothing is worth keeping, reply {{"candidates": []}}.
"""

_PARAGRAPH_RE = re.compile(r"\n[ \t]*\n")
_SENTENCE_RE = re.compile(r"(?<=[.!?])[ \t]+(?=\S)")
# Longest quoted span offered to the model; longer lines are offered sentence by sentence.
SPAN_MAX = 400
KNOWN_MAX = 40


@dataclass(frozen=True)
class Chunk:
    start: int
    text: str


def model_path(model: str | None, env: Mapping[str, str] | None = None) -> Path:
    """The GGUF to load: `model` (`--model`), else `$MM_MODEL`, else `model` in the user config."""
    env = os.environ if env is None else env
    chosen = model or user_config(env).get("model")
    if not chosen:
        raise BadInput(
            'no model configured: pass --model PATH.gguf, set MM_MODEL, or put model = "PATH.gguf" '
            "in config.toml under MM_HOME (see docs/models.md)"
        )
    path = Path(str(chosen)).expanduser()
    if not path.is_file():
        raise NotFound(f"no model file at {path}")
    return path


def split_chunks(text: str, count_tokens: Callable[[str], int], budget: int) -> list[Chunk]:
    """Paragraphs packed into chunks of about `budget` tokens at most; a longer paragraph is split by
    lines, then sentences, then characters. Offsets are into `text`."""
    pieces: list[Chunk] = []
    used = 0
    for piece in _split(Chunk(0, text), count_tokens, budget, 0):
        if not piece.text.strip():
            continue
        tokens = count_tokens(piece.text)
        if pieces and used + tokens <= budget:
            last = pieces[-1]
            pieces[-1] = Chunk(last.start, text[last.start : piece.start + len(piece.text)])
            used += tokens
        else:
            pieces.append(piece)
            used = tokens
    return [_trim(piece) for piece in pieces]


_SEPARATORS = (_PARAGRAPH_RE, re.compile(r"\n"), _SENTENCE_RE)


def _split(chunk: Chunk, count_tokens: Callable[[str], int], budget: int, level: int) -> list[Chunk]:
    if level == 0 or count_tokens(chunk.text) > budget:
        if level < len(_SEPARATORS):
            out: list[Chunk] = []
            pos = 0
            for match in [*_SEPARATORS[level].finditer(chunk.text), None]:
                end = match.start() if match else len(chunk.text)
                out += _split(Chunk(chunk.start + pos, chunk.text[pos:end]), count_tokens, budget, level + 1)
                pos = match.end() if match else pos
            return out
        # One sentence over the budget: cut it by characters, in proportion to its token count.
        size = max(1, len(chunk.text) * budget // max(1, count_tokens(chunk.text)))
        return [Chunk(chunk.start + i, chunk.text[i : i + size]) for i in range(0, len(chunk.text), size)]
    return [chunk]


def _trim(chunk: Chunk) -> Chunk:
    lead = len(chunk.text) - len(chunk.text.lstrip())
    return Chunk(chunk.start + lead, chunk.text.strip())


def span_choices(text: str) -> list[str]:
    """The sentences a candidate may quote: each non-empty line, split into sentences when long."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        parts = [line] if len(line) <= SPAN_MAX else [p.strip() for p in _SENTENCE_RE.split(line)]
        out += [p[:SPAN_MAX] for p in parts if p]
    return list(dict.fromkeys(out))


def known_blocks(text: str, context: Context) -> list[b.Block]:
    """Blocks in memory the chunk seems to be about: entities it names, and active blocks about them."""
    lower = text.lower()
    entities = [
        block
        for block in context.existing.blocks.values()
        if block.type == "entity" and any(name.lower() in lower for name in (block.title, *block.aliases))
    ][:KNOWN_MAX]
    names = {block.id for block in entities}
    about = [
        block
        for block in context.existing.blocks.values()
        if block.subject in names and block.status in ("active", "todo", "doing", "blocked")
    ]
    return [*entities, *about][:KNOWN_MAX]


def request(chunk: Chunk, context: Context) -> tuple[Messages, dict[str, Any]]:
    """The chat messages for one chunk, and the schema its reply is held to: spans quoted from the
    chunk, edge targets among the candidates' keys and the known blocks the prompt lists."""
    known = known_blocks(chunk.text, context)
    listing = "\n".join(f"- {block.id} ({block.type}): {block.title}" for block in known) or "(none)"
    user = (
        f"Today is {context.reference_date.isoformat()}. Source: {context.source}.\n"
        f"Known blocks:\n{listing}\n\nText:\n{chunk.text}"
    )
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
    return messages, reply_schema(span_choices(chunk.text), [block.id for block in known])


def parse_reply(raw: str) -> Any:
    """The reply's JSON. Strict: raw control characters inside strings are an error too."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadInput(f"the reply is not valid JSON ({exc.msg} at character {exc.pos}): {raw[:80]!r}") from None


class ModelExtractor:
    """Chunks the text, asks the backend for one schema-held reply per chunk, validates and merges."""

    name = "model"

    def __init__(self, *, max_tokens: int, chunk_tokens: int) -> None:
        if max_tokens < 128:
            raise BadInput(f"max_tokens is {max_tokens}; a reply needs at least 128")
        self.max_tokens = max_tokens
        self.chunk_tokens = chunk_tokens

    def count_tokens(self, text: str) -> int:
        """An estimate (about four characters a token) for backends without a tokenizer at hand."""
        return len(text) // 4 + 1

    def complete(self, messages: Messages, schema: dict[str, Any]) -> str:
        raise NotImplementedError

    def extract(self, text: str, context: Context) -> Extraction:
        pieces = split_chunks(text, self.count_tokens, self.chunk_tokens)
        known = context.existing.blocks.keys()
        report = context.progress or (lambda done, total: None)
        report(0, len(pieces))
        results = []
        for n, piece in enumerate(pieces, 1):
            where = f"chunk {n} of {len(pieces)} (characters {piece.start}-{piece.start + len(piece.text)})"
            try:
                raw = self.complete(*request(piece, context))
                results.append(
                    validate_reply(parse_reply(raw), piece.text, known=known, base=piece.start, backend=self.name)
                )
            except BadInput as exc:
                raise BadInput(f"{self.name} backend, {where}: {exc}") from None
            report(n, len(pieces))
        return merge(results, self.name)


def merge(results: list[Extraction], backend: str) -> Extraction:
    """One extraction from per-chunk ones: keys made unique per chunk, each entity kept once
    (the first mention; edges to later mentions point at it)."""
    out: list[Candidate] = []
    entity_keys: dict[str, str] = {}
    for n, result in enumerate(results, 1):
        rename = {c.key: (c.key if len(results) == 1 else f"{n}.{c.key}") for c in result.candidates}
        for cand in result.candidates:
            if cand.id is not None and cand.id in entity_keys:
                rename[cand.key] = entity_keys[cand.id]
        for cand in result.candidates:
            if cand.id is not None and cand.id in entity_keys:
                continue
            edges = tuple(
                (edge_type, f"key:{rename[t[4:]]}" if t.startswith("key:") else t) for edge_type, t in cand.edges
            )
            merged = replace(cand, key=rename[cand.key], edges=edges)
            if cand.id is not None:
                entity_keys[cand.id] = merged.key
            out.append(merged)
    return Extraction(backend, tuple(out))
