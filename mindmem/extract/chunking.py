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
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mindmem.errors import BadInput, NotFound
from mindmem.extract.base import Candidate, Context, Extraction
from mindmem.extract.grammar import reply_grammar
from mindmem.extract.reply import MAX_CANDIDATES, numbered_lines, reply_schema, validate_reply
from mindmem.extract.updates import Updates
from mindmem.store import blocks as b
from mindmem.store.config import user_config

Messages = list[dict[str, str]]

EXAMPLE_REPLY = json.dumps(
    {
        "candidates": [
            {"key": "c1", "type": "decision", "line": 1, "title": "Ship the mobile app on React Native", "edges": []},
            {"key": "c2", "type": "entity", "line": 1, "title": "React Native", "kind": "tool", "edges": []},
            {"key": "c3", "type": "entity", "line": 2, "title": "Lee", "kind": "person", "edges": []},
            {
                "key": "c4", "type": "task", "line": 2, "title": "Write the release checklist", "assignee": "Lee",
                "due": "2026-03-06", "edges": [],
            },
            {
                "key": "c5", "type": "fact", "line": 3, "title": "The API rate limit is 1200 requests a minute",
                "edges": [{"type": "supersedes", "target": "F-20260101-abcdef"}],
            },
        ]
    }
)  # fmt: skip

SYSTEM_PROMPT = f"""\
You turn notes, chats and logs into memory blocks for a team's memory.
The text comes as numbered lines. Reply with one JSON object: {{"candidates": [...]}}.
Each candidate:
- "key": c1, c2, c3 … in order.
- "type": decision (the team decided or agreed something), task (someone has to do something),
  fact (something true about a system, number or setting), incident (something went wrong),
  note (other things worth keeping), entity (a person, project, tool or organisation the text names).
- "line": the number of the line it comes from.
- "title": one short plain sentence saying it (for an entity: its name exactly as written).
- tasks also have "assignee" (the person's name as written, or null) and "due" (YYYY-MM-DD or null;
  turn "Friday" or "next week" into a date from today's date); entities have "kind": person,
  project, tool or org.
- "edges": links to an earlier candidate's key or a listed block ID: {{"type": "supersedes", "target": "F-..."}}
  when a line changes a listed fact or decision; "depends_on", "relates_to" otherwise. Usually [].
Only what the text says; a line may give several candidates or none. Skip greetings and small talk.

Example. Today is 2026-03-02.
Known blocks:
- F-20260101-abcdef (fact): The API rate limit is 600 requests a minute
Text:
1: Dana: We agreed to ship the mobile app on React Native.
2: Lee: I'll write the release checklist by Friday.
3: Dana: The API rate limit is now 1200 requests a minute.
4: Lee: lol ok
Reply:
{EXAMPLE_REPLY}
"""
_PARAGRAPH_RE = re.compile(r"\n[ \t]*\n")
_SENTENCE_RE = re.compile(r"(?<=[.!?])[ \t]+(?=\S)")
KNOWN_MAX = 40
# Reply tokens allowed per candidate (a full title and edges), and candidates per numbered line.
TOKENS_PER_CANDIDATE = 90
CANDIDATES_PER_LINE = 2


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


def known_blocks(text: str, context: Context) -> list[b.Block]:
    """Blocks in memory the chunk seems to be about: entities it names, active blocks about them,
    and facts or decisions a line gives a new value for (so the reply may supersede them)."""
    lower = text.lower()
    blocks = context.existing.blocks.values()
    entities = [
        block
        for block in blocks
        if block.type == "entity" and any(name.lower() in lower for name in (block.title, *block.aliases))
    ][:KNOWN_MAX]
    names = {block.id for block in entities}
    live = ("active", "todo", "doing", "blocked")
    about = [block for block in blocks if block.subject in names and block.status in live]
    changes = Updates(blocks)
    updated = [old for line in numbered_lines(text) for old in changes.of(line.text)]
    return list(dict.fromkeys([*updated, *entities, *about]))[:KNOWN_MAX]


@dataclass(frozen=True)
class Reply:
    """What one chunk's reply is held to: its line count, the block IDs it may target, how many
    candidates it may hold (two a line, at most MAX_CANDIDATES)."""

    lines: int
    targets: tuple[str, ...]

    @property
    def candidates(self) -> int:
        return max(1, min(MAX_CANDIDATES, CANDIDATES_PER_LINE * self.lines))

    def schema(self) -> dict[str, Any]:
        return reply_schema(self.lines, self.targets)

    def grammar(self) -> str:
        return reply_grammar(self.lines, self.targets, self.candidates)

    def max_tokens(self, cap: int) -> int:
        """Enough for the most candidates the reply may hold, so a short chunk cannot run on."""
        return min(cap, 16 + TOKENS_PER_CANDIDATE * self.candidates)


def request(chunk: Chunk, context: Context) -> tuple[Messages, Reply]:
    """The chat messages for one chunk (its lines numbered), and what its reply is held to."""
    known = known_blocks(chunk.text, context)
    listing = "\n".join(f"- {block.id} ({block.type}): {block.title}" for block in known) or "(none)"
    lines = numbered_lines(chunk.text)
    numbered = "\n".join(f"{n}: {line.text}" for n, line in enumerate(lines, 1))
    user = f"Today is {context.reference_date.isoformat()}.\nKnown blocks:\n{listing}\nText:\n{numbered}\nReply:"
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
    return messages, Reply(len(lines), tuple(block.id for block in known))


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
        # One record per chunk asked (seconds, whether the reply was usable, the backend's token
        # usage when it reports one): what benchmarks read for seconds per chunk and tokens/s.
        self.calls: list[dict[str, Any]] = []
        self.last_usage: dict[str, float] = {}

    def count_tokens(self, text: str) -> int:
        """An estimate (about four characters a token) for backends without a tokenizer at hand."""
        return len(text) // 4 + 1

    def complete(self, messages: Messages, reply: Reply) -> str:
        raise NotImplementedError

    def extract(self, text: str, context: Context) -> Extraction:
        """One reply per chunk. A chunk whose reply is unusable is skipped with a warning (the
        others still count); when every chunk fails, that is an error."""
        pieces = split_chunks(text, self.count_tokens, self.chunk_tokens)
        known = context.existing.blocks.keys()
        report = context.progress or (lambda done, total: None)
        report(0, len(pieces))
        results, failures = [], []
        for n, piece in enumerate(pieces, 1):
            where = f"chunk {n} of {len(pieces)} (characters {piece.start}-{piece.start + len(piece.text)})"
            messages, reply = request(piece, context)
            start, self.last_usage, usable = time.perf_counter(), {}, False
            try:
                raw = self.complete(messages, reply)
                found = validate_reply(
                    parse_reply(raw), piece.text, known=known, listed=reply.targets, base=piece.start, backend=self.name
                )
            except BadInput as exc:
                failures.append(f"{where} skipped: {exc}")
            else:
                results.append(replace(found, warnings=tuple(f"{where}: {w}" for w in found.warnings)))
                usable = True
            self.calls.append({"seconds": time.perf_counter() - start, "usable": usable, **self.last_usage})
            report(n, len(pieces))
        if failures and not results:
            raise BadInput(f"{self.name} backend: {failures[0]}")
        merged = merge(results, self.name)
        return replace(merged, warnings=(*merged.warnings, *failures))


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
    return Extraction(backend, tuple(out), tuple(w for result in results for w in result.warnings))
