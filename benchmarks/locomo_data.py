"""Reading LoCoMo-format files, and the plain Okapi BM25 that benchmarks/locomo.py compares recall with.

A LoCoMo file is a JSON list of samples, each with `conversation` (`speaker_a`, `speaker_b`,
`session_N` lists of turns `{speaker, dia_id, text}`, some with `blip_caption`, and
`session_N_date_time` such as `1:56 pm on 8 May, 2023`) and `qa` (`{question, answer, evidence:
[dia_id...], category}`; adversarial questions carry `adversarial_answer` instead of `answer`).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

_SESSION_KEY_RE = re.compile(r"^session_(\d+)$")
_DIA_RE = re.compile(r"^D:?(\d+):(\d+)$")
_DATE_FORMATS = ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y", "%d %B, %Y", "%d %B %Y")


@dataclass(frozen=True)
class Turn:
    dia_id: str
    session: int
    speaker: str
    text: str
    caption: str = ""

    @property
    def said(self) -> str:
        """What the turn says, with a shared image's caption (the question may ask about the picture)."""
        return f"{self.text} [shares a photo: {self.caption}]" if self.caption else self.text


@dataclass(frozen=True)
class Session:
    number: int
    when: datetime
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class Question:
    question: str
    answer: str
    evidence: tuple[str, ...]
    category: int


@dataclass(frozen=True)
class Sample:
    sample_id: str
    speakers: tuple[str, str]
    sessions: tuple[Session, ...]
    questions: tuple[Question, ...]

    @property
    def turns(self) -> list[Turn]:
        return [t for s in self.sessions for t in s.turns]


def load(path: Path, limit: int | None = None) -> list[Sample]:
    """The samples of a LoCoMo-format file (the first `limit` of them), checked and normalised."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{path}: cannot read a LoCoMo JSON file: {exc}") from None
    if not isinstance(raw, list):
        raise SystemExit(f"{path}: expected a JSON list of samples")
    return [parse_sample(item, n) for n, item in enumerate(raw[:limit] if limit else raw)]


def parse_sample(raw: dict[str, Any], position: int) -> Sample:
    conv = raw["conversation"]
    sessions = []
    for key in conv:
        found = _SESSION_KEY_RE.match(key)
        if found is None or not conv[key]:
            continue
        number = int(found[1])
        turns = tuple(
            Turn(str(t["dia_id"]), number, str(t["speaker"]), str(t.get("text", "")), str(t.get("blip_caption") or ""))
            for t in conv[key]
        )
        sessions.append(Session(number, parse_when(conv[f"session_{number}_date_time"]), turns))
    questions = tuple(
        Question(
            str(q["question"]),
            str(q.get("answer", q.get("adversarial_answer", ""))),
            evidence_ids(q.get("evidence") or []),
            int(q.get("category", 0)),
        )
        for q in raw.get("qa", [])
    )
    sample_id = str(raw.get("sample_id", f"sample-{position}"))
    return Sample(sample_id, (conv["speaker_a"], conv["speaker_b"]), tuple(sorted(sessions, key=_number)), questions)


def _number(session: Session) -> int:
    return session.number


def parse_when(text: str) -> datetime:
    """A session time such as `1:56 pm on 8 May, 2023`."""
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise SystemExit(f"cannot read the session date {text!r}")


def evidence_ids(raw: Iterable[str]) -> tuple[str, ...]:
    """Normalised dia_ids of an evidence list; tolerates `D1:3; D1:4` in one string and `D:1:3`."""
    out = []
    for item in raw:
        for part in re.split(r"[;,\s]+", str(item)):
            found = _DIA_RE.match(part.strip())
            if found:
                out.append(f"D{int(found[1])}:{int(found[2])}")
    return tuple(dict.fromkeys(out))


# -- plain Okapi BM25 ------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[a-z0-9]+")
# A short stop list: articles, conjunctions, pronouns and the words that shape a question. Without
# the question words every turn that asks something ("What did you paint?") matches every question.
_STOP_TEXT = (
    "a an the and or but of to in on at for with is are was were be been do does did what when where who "
    "which how why i you he she it we they my your his her its our their me him them this that"
)
STOP_WORDS = frozenset(_STOP_TEXT.split())


def tokens(text: str) -> list[str]:
    """Lowercase alphanumeric tokens, stop words left out."""
    return [t for t in _TOKEN_RE.findall(text.lower()) if t not in STOP_WORDS]


class BM25:
    """Okapi BM25 (k1 1.5, b 0.75, idf log(1 + (N - df + 0.5) / (df + 0.5))) over `tokens`."""

    def __init__(self, docs: dict[str, str], k1: float = 1.5, b: float = 0.75) -> None:
        tf = {key: Counter(tokens(text)) for key, text in docs.items()}
        avg = sum(sum(c.values()) for c in tf.values()) / max(1, len(tf))
        df = Counter(term for counts in tf.values() for term in counts)
        n = len(tf)
        # term -> [(key, score)]: a query only touches the postings of its own terms.
        self.postings: dict[str, list[tuple[str, float]]] = {}
        for key, counts in tf.items():
            norm = k1 * (1 - b + b * sum(counts.values()) / avg)
            for term, f in counts.items():
                idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
                self.postings.setdefault(term, []).append((key, idf * f * (k1 + 1) / (f + norm)))

    def rank(self, query: str, depth: int = 10) -> list[str]:
        scores: dict[str, float] = {}
        for term in dict.fromkeys(tokens(query)):
            for key, score in self.postings.get(term, ()):
                scores[key] = scores.get(key, 0.0) + score
        return sorted(scores, key=lambda k: (-scores[k], k))[:depth]
