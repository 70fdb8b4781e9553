"""Safety family (MM-X): what must never reach an agent's context or a shared repo.

- MM-X001 hidden Unicode: bidi controls and tag characters (critical: they make text
  read differently to a person and to a model), zero-width and other invisible
  characters (warning);
- MM-X002 prompt-injection phrasing aimed at agents ("ignore previous instructions",
  chat-template tokens, "exfiltrate", "do not tell the user" …);
- MM-X003 secrets: private keys, cloud and API tokens, high-entropy `api_key = …` values.

The whole file is scanned (frontmatter and body), since an agent reads both, and so are
the frontmatter values as YAML decodes them (escapes like `\U000e0041` become the hidden
characters they stand for). Phrases are matched on the text as a model reads it (see
`reading`): ANSI escapes, controls and invisible characters dropped, NFKC, look-alike
letters mapped to Latin, line breaks read as spaces. C0/C1 control characters are
hidden characters of their own. Secrets are never echoed back in full.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from mindmem.checks import reading
from mindmem.checks.findings import Finding
from mindmem.store.snapshot import id_of_path

if TYPE_CHECKING:  # the catalog (imported by the context) runs `scan` when it digests a file
    from mindmem.checks.context import CheckContext

# Bumped when what `scan` finds changes, so cached scans of unchanged files are redone.
SCAN_VERSION = 2

# -- hidden Unicode ----------------------------------------------------------------------

BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
BIDI_MARKS = frozenset("\u200e\u200f\u061c")
ZERO_WIDTH = frozenset("\u200b\u2060\ufeff\u180e\u2061\u2062\u2063\u2064")
JOINERS = frozenset("\u200c\u200d")  # legitimate in emoji and many scripts; suspicious between ASCII letters
BLACK_FLAG = "\U0001f3f4"  # tag characters after it spell a subdivision flag (🏴 England), which is fine


def _hidden_kind(text: str, i: int) -> tuple[str, str] | None:
    """(kind, severity) of the character at `i` if it is hidden, else None."""
    ch = text[i]
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        if ch == "\t" or (ch == "\r" and text[i + 1 : i + 2] == "\n"):
            return None
        # An ANSI escape can conceal the text after it on a terminal; any control breaks up words.
        return "control character", "critical"
    if ch in BIDI_CONTROLS:
        return "bidi control", "critical"
    if 0xE0000 <= code <= 0xE007F:
        j = i
        while j > 0 and 0xE0000 <= ord(text[j - 1]) <= 0xE007F:
            j -= 1
        if j > 0 and text[j - 1] == BLACK_FLAG:
            return None
        return "tag character", "critical"
    if ch in BIDI_MARKS:
        return "bidi mark", "warning"
    if ch in ZERO_WIDTH and not (ch == "\ufeff" and i == 0):
        return "zero-width character", "warning"
    if 0xE0100 <= code <= 0xE01EF:
        return "variation selector", "warning"
    if ch in JOINERS and 0 < i < len(text) - 1 and text[i - 1].isascii() and text[i + 1].isascii():
        return "zero-width joiner", "warning"
    return None


def _hidden(text: str) -> Iterator[tuple[str, str, int, int, str, int]]:
    """(kind, severity, line, column, first code point, count) per kind of hidden character."""
    first: dict[str, tuple[str, int, int, str]] = {}
    count: dict[str, int] = {}
    if _SUSPECT.search(text) is None:
        return
    line, col = 1, 0
    for i, ch in enumerate(text):
        if ch == "\n":
            line, col = line + 1, 0
            continue
        col += 1
        if 0x20 <= ord(ch) < 0x600 and not 0x7F <= ord(ch) <= 0x9F:
            continue
        kind = _hidden_kind(text, i)
        if kind is None:
            continue
        first.setdefault(kind[0], (kind[1], line, col, f"U+{ord(ch):04X}"))
        count[kind[0]] = count.get(kind[0], 0) + 1
    for kind, (severity, at_line, at_col, point) in first.items():
        yield kind, severity, at_line, at_col, point, count[kind]


_SUSPECT = re.compile(
    "\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)

# -- prompt injection ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A pattern, run only when the lowercased text holds a word from every trigger group (cheap prefilter).

    Compiled on first use: the pre-commit hook checks one block and should not pay for every rule.
    """

    name: str
    severity: str
    source: str
    flags: int
    triggers: tuple[tuple[str, ...], ...]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(self.source, self.flags)

    def finds(self, text: str, lower: str) -> Iterator[re.Match[str]]:
        if all(any(map(lower.__contains__, group)) for group in self.triggers):
            yield from self.pattern.finditer(text)


def _rule(name: str, pattern: str, *triggers: tuple[str, ...], severity: str = "critical", case: bool = False) -> Rule:
    return Rule(name, severity, pattern, 0 if case else re.IGNORECASE, triggers)


_SECRET_WORDS = (
    r"(?:secrets?|credentials?|tokens?|api[ _-]?keys?|passwords?|private[ _-]keys?|ssh[ _-]keys?"
    r"|env(?:ironment)?(?:[ _-]variables?)?|\.env)"
)
INJECTION_RULES = (
    _rule(
        "override of earlier instructions",
        r"\b(?:ignore|disregard|forget|override|bypass)\b[^.\n]{0,30}?\b(?:previous|prior|above|earlier|preceding|"
        r"system|original|all)\b[^.\n]{0,20}?\b(?:instructions?|prompts?|rules|directions|guidelines|guardrails)\b",
        ("ignore", "disregard", "forget", "override", "bypass"),
        ("instruction", "prompt", "rules", "direction", "guideline", "guardrail"),
    ),
    _rule(
        "chat-template token",
        r"<\|(?:im_start|im_end|system|endoftext|start_header_id)\|>|\[/?INST\]|<<SYS>>",
        ("<|", "inst]", "<<sys>>"),
    ),
    _rule("exfiltration", r"\bexfiltrat\w*", ("exfiltrat",)),
    _rule(
        "instruction to send secrets out",
        rf"\b(?:send|post|upload|leak|forward|e-?mail|transmit|paste)\b[^.\n]{{0,60}}?\b{_SECRET_WORDS}[^.\n]{{0,60}}?"
        r"\b(?:to|at)\s+(?:https?://|[\w.+-]+@[\w-]+\.|[\w-]+\.(?:com|net|org|io|xyz|ru|cn)\b)",
        ("send", "post", "upload", "leak", "forward", "mail", "transmit", "paste"),
        ("secret", "credential", "token", "key", "password", "env"),
    ),
    _rule(
        "request to reveal the prompt",
        r"\b(?:reveal|print|show|output|repeat|leak|dump)\b[^.\n]{0,20}?\b(?:your|the)\s+"
        r"(?:system\s+prompt|hidden\s+prompt|initial\s+prompt|instructions)\b",
        ("reveal", "print", "show", "output", "repeat", "leak", "dump"),
        ("prompt", "instructions"),
    ),
    _rule(
        "instruction to hide from the user",
        r"\b(?:do\s+not|don't|never)\s+(?:tell|inform|alert|notify|show)\s+(?:this\s+to\s+)?the\s+"
        r"(?:user|human|operator)\b|\bwithout\s+(?:telling|informing|alerting)\s+the\s+(?:user|human|operator)\b",
        ("user", "human", "operator"),
        ("tell", "inform", "alert", "notif", "show"),
    ),
    _rule(
        "role reassignment",
        r"\bact\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|jailbroken)\b",
        ("unrestricted", "unfiltered", "jailbroken"),
    ),
    _rule("role reassignment", r"\byou\s+are\s+now\b", ("you",), ("now",), severity="warning"),
    _rule("mention of the system prompt", r"\bsystem\s+prompt\b", ("system",), ("prompt",), severity="warning"),
    _rule("new instructions", r"\bnew\s+instructions?\s*:", ("instruction",), severity="warning"),
    _rule("jailbreak", r"\bjailbr(?:eak|oken)\w*", ("jailbr",), severity="warning"),
    _rule(
        "download piped into a shell",
        r"\b(?:curl|wget)\b[^\n|]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b",
        ("curl", "wget"),
        ("|",),
        severity="warning",
    ),
)

# -- secrets ---------------------------------------------------------------------------------

SECRET_RULES = (
    _rule(
        "private key",
        r"-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----",
        ("private key",),
        case=True,
    ),
    _rule("AWS access key ID", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b", ("akia", "asia", "abia", "acca"), case=True),
    _rule(
        "AWS secret access key",
        r"aws_?secret_?access_?key\W{0,4}[:=]\s*['\"]?[A-Za-z0-9/+=]{40}\b",
        ("secret",),
    ),
    _rule(
        "GitHub token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        case=True,
    ),
    _rule(
        "GitLab token", r"\bgl(?:pat|dt|ptt|rt)-[A-Za-z0-9_-]{20,}", ("glpat-", "gldt-", "glptt-", "glrt-"), case=True
    ),
    _rule("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", ("xox",), case=True),
    _rule(
        "Slack webhook",
        r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}",
        ("hooks.slack.com",),
        case=True,
    ),
    _rule("OpenAI-style API key", r"\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{32,}", ("sk-",), case=True),
    _rule("Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b", ("aiza",), case=True),
    _rule("Stripe live key", r"\b[rs]k_live_[0-9A-Za-z]{24,}\b", ("k_live_",), case=True),
)
# Keys with a distinctive prefix, split by single spaces or tabs to slip past the rules above
# (`AKIA IOSFODNN7 EXAMPLE`); a match needs a digit and at most three splits, so words after a prefix
# do not count.
SPLIT_SECRET_RULES = (
    _rule(
        "AWS access key ID",
        r"\b(?:AKIA|ASIA|ABIA|ACCA)(?:[ \t]?[0-9A-Z]){16}\b",
        ("akia", "asia", "abia", "acca"),
        case=True,
    ),
    _rule(
        "GitHub token",
        r"\bgh[pousr]_(?:[ \t]?[A-Za-z0-9]){36,255}\b",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        case=True,
    ),
    _rule("OpenAI-style API key", r"\bsk-(?:proj-)?(?:[ \t]?[A-Za-z0-9_-]){40,}", ("sk-",), case=True),
    _rule("Google API key", r"\bAIza(?:[ \t]?[0-9A-Za-z_-]){35}\b", ("aiza",), case=True),
)
# `api_key = "…"` and friends; the value must look random (see _generic_secret).
GENERIC_SECRET = _rule(
    "high-entropy credential assignment",
    r"(?:api[_-]?key|secret|token|passw(?:or)?d|access[_-]?key|auth[_-]?key)[\w.-]*['\"]?\s*[:=]\s*"
    r"['\"]?([A-Za-z0-9_\-/+=.~]{16,})",
    ("key", "secret", "token", "passw"),
    ("=", ":"),
)
PLACEHOLDER = re.compile(r"(?i)example|sample|dummy|changeme|placeholder|redacted|your|x{4,}|\*{3,}|0{6,}|\.\.\.")
MIN_ENTROPY = 3.5


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in (text.count(c) for c in set(text)))


def _generic_secret(value: str) -> bool:
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return has_digit and has_alpha and not PLACEHOLDER.search(value) and entropy(value) >= MIN_ENTROPY


def redact(secret: str) -> str:
    return f"{secret[:4]}…({len(secret)} chars)"


# -- the check ------------------------------------------------------------------------------

# (code, severity, message, line, fix): a finding about a text, before it is tied to a block.
Hazard = tuple[str, str, str, int, str]


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Findings for the blocks in scope; texts already scanned (digest cache, by blob id) are not scanned again."""
    for block in ctx.focus:
        d = ctx.catalog.by_id.get(block.id)
        hazards = d.hazards if d is not None else None
        if hazards is None:
            text = ctx.text(block.id)
            hazards = scan(text) if text is not None else ()
        yield from _findings(hazards, block.id, ctx.path_of(block.id))


def findings_in(path: str, text: str) -> list[Finding]:
    """The safety findings of one block file's text, read as it is (no store of earlier scans)."""
    return _findings(scan(text), id_of_path(path), path)


def _findings(hazards: Iterable[Hazard], block_id: str, path: str | None) -> list[Finding]:
    return [
        Finding(code, severity, message, (block_id,), path, line, fix=fix)
        for code, severity, message, line, fix in hazards
    ]


def scan(text: str) -> tuple[Hazard, ...]:
    """Everything unsafe in one block file's text, as written and as a model reads it."""
    decoded = list(reading.decoded_values(text))
    out = _hidden_hazards(text, decoded)
    # (line, text as read, offset -> line): the file, and each decoded value that differs from it.
    views = [(text, lambda offset: _line_at(text, offset))]
    views += [(value, lambda _offset, line=line: line) for line, value in decoded]
    out += _injection_hazards(views)
    out += _secret_hazards(views)
    return tuple(out)


def _hidden_hazards(text: str, decoded: list[tuple[int, str]]) -> list[Hazard]:
    found = {kind: (severity, line, col, point, n) for kind, severity, line, col, point, n in _hidden(text)}
    for at_line, value in decoded:
        for kind, severity, _line, _col, point, n in _hidden(value):
            if kind not in found:
                found[kind] = (severity, at_line, 0, point, n)
    out: list[Hazard] = []
    for kind, (severity, line, col, point, n) in found.items():
        more = f" ({n} in total)" if n > 1 else ""
        where = f"line {line}, column {col}" if col else f"line {line} (in an escaped YAML string)"
        message = f"hidden {kind} {point} at {where}{more}: people and models read it differently"
        out.append(("MM-X001", severity, message, line, f"delete the invisible {point} characters (retype the line)"))
    return out


def _read_views(
    views: list[tuple[str, Callable[[int], int]]], *, flat: bool
) -> Iterator[tuple[str, str, Callable[[int], int]]]:
    """(text, lowercased, offset -> line) for every way the texts can be read; cheapest first.

    With `flat`, line breaks read as spaces (same offsets), so a phrase split over two lines is
    one phrase; every pattern that matches the text as written matches it flat too.
    """
    for text, line_of in views:
        shown = text.replace("\n", " ") if flat else text
        yield shown, shown.lower(), line_of
        view = reading.normalised(text)
        if view is not None:
            yield view.text, view.text.lower(), lambda i, v=view, f=line_of: f(v.source_offset(i))


def _injection_hazards(views: list[tuple[str, Callable[[int], int]]]) -> list[Hazard]:
    found: dict[int, Hazard] = {}  # by rule, first reading that matches
    fix = "rewrite it as a plain statement about the project; memory must not instruct agents"
    for text, lower, line_of in _read_views(views, flat=True):
        for n, rule in enumerate(INJECTION_RULES):
            match = None if n in found else next(rule.finds(text, lower), None)
            if match:
                message = f"prompt-injection phrasing ({rule.name}): {_snippet(match.group(0))!r}"
                found[n] = ("MM-X002", rule.severity, message, line_of(match.start()), fix)
        if len(found) == len(INJECTION_RULES):
            break
    return [found[n] for n in sorted(found)]


def _secret_hazards(views: list[tuple[str, Callable[[int], int]]]) -> list[Hazard]:
    found: dict[tuple[str, int], tuple[str, int, str]] = {}
    for text, lower, line_of in _read_views(views, flat=False):
        for name, start, value in _secrets(text, lower):
            line = line_of(start)
            found.setdefault((name, line), (name, line, value))
    fix = "delete it and rotate the credential; once committed it stays in git history"
    return [
        ("MM-X003", "critical", f"{name} {redact(value)}", line, fix)
        for name, line, value in sorted(found.values(), key=lambda item: item[1])
    ]


def _secrets(text: str, lower: str) -> list[tuple[str, int, str]]:
    found: list[tuple[str, int, str]] = []
    for rule in SECRET_RULES:
        for match in rule.finds(text, lower):
            found.append((rule.name, match.start(), match.group(0)))
    for rule in SPLIT_SECRET_RULES:
        for match in rule.finds(text, lower):
            value = re.sub(r"[ \t]", "", match.group(0))
            splits = len(match.group(0)) - len(value)
            if 0 < splits <= 3 and any(c.isdigit() for c in value):
                found.append((rule.name, match.start(), value))
    for match in GENERIC_SECRET.finds(text, lower):
        value = match.group(1)
        if _generic_secret(value) and not any(s <= match.start(1) < s + len(v) for _, s, v in found):
            found.append((GENERIC_SECRET.name, match.start(1), value))
    return found


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _snippet(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
