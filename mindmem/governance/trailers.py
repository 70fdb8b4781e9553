"""Governance commit messages: title, rationale and `Mm-*` trailers, written and read back.

Pure. The format is git's own trailer convention, so `git interpret-trailers --parse`
reads the same keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mindmem.errors import BadInput

MIN_RATIONALE_CHARS = 8
_TRAILER_RE = re.compile(r"^(Mm-[A-Za-z-]+|Signed-off-by|Co-authored-by): (.*)$")


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    trailers: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        for name, value in self.trailers:
            if name.lower() == key.lower():
                return value
        return None

    def get_list(self, key: str) -> list[str]:
        value = self.get(key)
        return [v.strip() for v in value.split(",") if v.strip()] if value else []


def check_rationale(text: str | None, what: str = "rationale") -> str:
    """A rationale must say something: at least 8 non-whitespace characters."""
    text = (text or "").strip()
    if len(re.sub(r"\s", "", text)) < MIN_RATIONALE_CHARS:
        raise BadInput(
            f"a {what} of at least {MIN_RATIONALE_CHARS} non-whitespace characters is required "
            "(-r/--rationale on the command line, `rationale` over MCP)"
        )
    return text


Trailers = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str | Sequence[str]]]


def compose(title: str, body: str, trailers: Trailers) -> str:
    """A commit message; `trailers` is a mapping, or (key, value) pairs when a key repeats."""
    title = " ".join(title.split())
    lines = [title, ""]
    if body.strip():
        lines += [body.strip(), ""]
    for key, value in trailers.items() if isinstance(trailers, Mapping) else trailers:
        text = ", ".join(value) if isinstance(value, (list, tuple)) else str(value)
        lines.append(f"{key}: {' '.join(text.split())}")
    return "\n".join(lines) + "\n"


def parse_message(message: str) -> Message:
    lines = message.rstrip("\n").split("\n")
    title = lines[0] if lines else ""
    rest = lines[1:]
    trailers: list[tuple[str, str]] = []
    # The trailer block is the last paragraph when every line of it is a trailer.
    end = len(rest)
    start = end
    while start > 0 and rest[start - 1].strip():
        start -= 1
    block = rest[start:end]
    if block and all(_TRAILER_RE.match(line) for line in block):
        for line in block:
            m = _TRAILER_RE.match(line)
            assert m is not None
            trailers.append((m.group(1), m.group(2)))
        rest = rest[:start]
    body = "\n".join(rest).strip("\n")
    return Message(title, body, tuple(trailers))
