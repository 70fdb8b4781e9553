"""Retrieval quality on conversations: LoCoMo evidence recall, mindmem recall beside plain Okapi BM25.

    python benchmarks/locomo.py FILE [--unit turn|session] [--limit-samples N] [--json]

FILE is in the LoCoMo format: a JSON list of samples, each with `conversation` (`speaker_a`,
`speaker_b`, `session_N` lists of turns `{speaker, dia_id, text}`, some with `blip_caption`, and
`session_N_date_time` such as `1:56 pm on 8 May, 2023`) and `qa` (`{question, answer, evidence:
[dia_id...], category}`; adversarial questions carry `adversarial_answer` instead of `answer`).

Each sample becomes its own memory repo, written through the library in one commit
(`GitRepo.commit_files`): with `--unit turn` one note per dialogue turn (ID from the dia_id,
the session time as `created`, the speaker as `subject`), with `--unit session` one note per
session. Every question is asked through `mindmem.recall.recall` (mode similar, limit 10) and
through a plain Okapi BM25 over the same units, in the same process. A hit is a retrieved
block whose turn (or session) is in the question's evidence; questions without evidence are
skipped and counted. Printed: evidence recall any@5, any@10 and MRR (of the first hit in the
top 10), overall and per category.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mindmem import blocks as b
from mindmem import index
from mindmem.blocks import Block
from mindmem.errors import BadInput
from mindmem.memory import Memory
from mindmem.recall import recall
from mindmem.repo import GitRepo, Person

UNITS = ("turn", "session")
CUTOFFS = (5, 10)
DEPTH = max(CUTOFFS)
# Turns either side of a turn that go into its block as context (the words a question shares
# with an answer are often in the question or remark it answers).
CONTEXT_TURNS = 2
PERSON = Person("LoCoMo", "locomo@mindmem.invalid")
CATEGORY_NAMES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}

_SESSION_KEY_RE = re.compile(r"^session_(\d+)$")
_DIA_RE = re.compile(r"^D:?(\d+):(\d+)$")
_DATE_FORMATS = ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y", "%d %B, %Y", "%d %B %Y")


# -- the file ---------------------------------------------------------------------------


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


# -- units and blocks -------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """What one block holds: a turn (key = dia_id) or a session (key = S<n>)."""

    key: str
    when: datetime
    speaker: str | None
    text: str
    context: str


def units(sample: Sample, unit: str, context: int = CONTEXT_TURNS) -> list[Unit]:
    if unit == "session":
        return [Unit(f"S{s.number}", s.when, None, "\n".join(map(_line, s.turns)), "") for s in sample.sessions]
    out = []
    for session in sample.sessions:
        turns = session.turns
        for i, turn in enumerate(turns):
            around = turns[max(0, i - context) : i] + turns[i + 1 : i + 1 + context]
            out.append(Unit(turn.dia_id, session.when, turn.speaker, turn.said, "\n".join(map(_line, around))))
    return out


def _line(turn: Turn) -> str:
    return f"{turn.speaker}: {turn.said}"


def unit_key(dia_id: str, unit: str) -> str:
    return dia_id if unit == "turn" else f"S{dia_id[1:].split(':')[0]}"


def person_id(name: str) -> str:
    """The speaker's entity ID: PER-<slug>, or a hash when the name has no ASCII letters to slug."""
    try:
        return "PER-" + b.slugify(name)
    except BadInput:
        return "PER-speaker-" + hashlib.sha1(name.encode()).hexdigest()[:6]


def to_blocks(sample: Sample, unit: str, context: int = CONTEXT_TURNS) -> dict[str, Block]:
    """unit key -> block. IDs are N-<session date>-<6 hex of sha1(sample, key)>: the same file gives the
    same IDs; a collision within a sample (vanishingly rare) takes the next hash in a fixed order."""
    out: dict[str, Block] = {}
    taken: set[str] = set()
    for u in units(sample, unit, context):
        salt = 0
        while True:
            digest = hashlib.sha1(f"{sample.sample_id}/{u.key}/{salt}".encode()).hexdigest()[:6]
            block_id = f"N-{u.when:%Y%m%d}-{digest}"
            if block_id not in taken:
                break
            salt += 1
        taken.add(block_id)
        if u.speaker:
            # The turn is the title (weighted most); the turns around it are body text under a heading.
            title = f"{u.speaker}: " + " ".join(u.text.split())
            body = f"{u.speaker} said: {u.text}" + (f"\n\n## Context\n\n{u.context}" if u.context else "")
        else:
            title = f"Session {u.key[1:]} of {' and '.join(sample.speakers)}"
            body = u.text
        meta: dict[str, Any] = {
            "id": block_id,
            "type": "note",
            "title": title,
            "status": "active",
            "created": f"{u.when:%Y-%m-%dT%H:%M:00Z}",
            "author": "locomo",
        }
        if u.speaker:
            meta["subject"] = person_id(u.speaker)
        meta["conversation"] = sample.sample_id
        meta["unit"] = u.key
        out[u.key] = b.from_mapping(meta, body, f"{sample.sample_id}:{u.key}")
    return out


def build_repo(path: Path, sample: Sample, unit: str, context: int = CONTEXT_TURNS) -> tuple[Memory, dict[str, str]]:
    """A memory repo at `path` holding the sample's blocks in one commit; (memory, block id -> unit key)."""
    GitRepo.init(path)
    Memory.init(path, mode="detect_only", commit=True)
    memory = Memory(path)
    found = to_blocks(sample, unit, context)
    files = {f"{memory.root}/{b.block_relpath(blk)}": b.render(blk).encode() for blk in found.values()}
    memory.git.commit_files(memory.settings.governed_branch, files, f"LoCoMo {sample.sample_id}: {unit}s", PERSON)
    return memory, {blk.id: key for key, blk in found.items()}


# -- plain Okapi BM25 -----------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text.lower())


class BM25:
    """Okapi BM25 (k1 1.2, b 0.75, Lucene's idf) over lowercase word tokens: no stemming, no stop words."""

    def __init__(self, docs: dict[str, str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tf = {key: Counter(tokens(text)) for key, text in docs.items()}
        self.length = {key: sum(tf.values()) for key, tf in self.tf.items()}
        self.avg = sum(self.length.values()) / max(1, len(self.length))
        df = Counter(term for tf in self.tf.values() for term in tf)
        n = len(self.tf)
        self.idf = {term: math.log(1 + (n - d + 0.5) / (d + 0.5)) for term, d in df.items()}

    def rank(self, query: str, depth: int = DEPTH) -> list[str]:
        terms = [t for t in dict.fromkeys(tokens(query)) if t in self.idf]
        scores: dict[str, float] = {}
        for key, tf in self.tf.items():
            norm = self.k1 * (1 - self.b + self.b * self.length[key] / self.avg)
            score = sum(self.idf[t] * tf[t] * (self.k1 + 1) / (tf[t] + norm) for t in terms if t in tf)
            if score > 0:
                scores[key] = score
        return sorted(scores, key=lambda k: (-scores[k], k))[:depth]


def bm25_docs(sample: Sample, unit: str) -> dict[str, str]:
    """What the baseline indexes: each turn as `speaker: text [caption]`, or each session's turns."""
    if unit == "session":
        return {u.key: u.text for u in units(sample, unit)}
    return {t.dia_id: f"{t.speaker}: {t.said}" for t in sample.turns}


# -- scoring ------------------------------------------------------------------------------


@dataclass
class Tally:
    """Evidence recall counts for one group of questions."""

    questions: int = 0
    hits: dict[int, int] = field(default_factory=lambda: dict.fromkeys(CUTOFFS, 0))
    reciprocal: float = 0.0

    def add(self, ranked: Sequence[str], gold: set[str]) -> None:
        self.questions += 1
        first = next((rank for rank, key in enumerate(ranked[:DEPTH], 1) if key in gold), None)
        for k in CUTOFFS:
            self.hits[k] += first is not None and first <= k
        self.reciprocal += 1 / first if first else 0.0

    def figures(self) -> dict[str, float]:
        n = max(1, self.questions)
        out = {f"any@{k}": self.hits[k] / n for k in CUTOFFS}
        out["mrr"] = self.reciprocal / n
        return out


@dataclass
class Scores:
    """Tallies overall and per category, for one retriever."""

    overall: Tally = field(default_factory=Tally)
    categories: dict[int, Tally] = field(default_factory=dict)

    def add(self, question: Question, ranked: Sequence[str], gold: set[str]) -> None:
        self.overall.add(ranked, gold)
        self.categories.setdefault(question.category, Tally()).add(ranked, gold)

    def to_json(self) -> dict[str, Any]:
        return {
            "overall": {"questions": self.overall.questions, **self.overall.figures()},
            "categories": {
                str(c): {"questions": t.questions, **t.figures()} for c, t in sorted(self.categories.items())
            },
        }


@dataclass
class Report:
    file: str
    unit: str
    samples: int
    questions: int
    skipped: int
    recall: Scores
    bm25: Scores
    build_seconds: float
    query_seconds: float
    # Questions whose evidence names no turn of its conversation (a typo in the data): skipped too.
    unmatched: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "unit": self.unit,
            "samples": self.samples,
            "questions": self.questions,
            "skipped": self.skipped,
            "unmatched": self.unmatched,
            "recall": self.recall.to_json(),
            "bm25": self.bm25.to_json(),
            "build_seconds": round(self.build_seconds, 2),
            "query_seconds": round(self.query_seconds, 2),
        }


Retriever = Callable[[str], list[str]]


def evaluate(
    path: Path,
    unit: str = "turn",
    limit_samples: int | None = None,
    *,
    context: int = CONTEXT_TURNS,
    workdir: Path | None = None,
) -> Report:
    """Build a repo per sample (under `workdir`, or a temporary folder), ask every question, tally."""
    if unit not in UNITS:
        raise SystemExit(f"--unit must be one of {', '.join(UNITS)}, not {unit!r}")
    samples = load(path, limit_samples)
    report = Report(str(path), unit, len(samples), 0, 0, Scores(), Scores(), 0.0, 0.0)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for n, sample in enumerate(samples):
            began = time.perf_counter()
            memory, keys = build_repo(Path(tmp) / f"{n:03d}", sample, unit, context)
            index.catch_up(memory)
            baseline = BM25(bm25_docs(sample, unit))
            report.build_seconds += time.perf_counter() - began

            def mindmem(question: str, memory: Memory = memory, keys: dict[str, str] = keys) -> list[str]:
                hits = recall(memory, question, limit=DEPTH).hits
                return [keys[h.id] for h in hits if h.id in keys]

            began = time.perf_counter()
            _ask(sample, unit, report, {"recall": mindmem, "bm25": baseline.rank})
            report.query_seconds += time.perf_counter() - began
    return report


def _ask(sample: Sample, unit: str, report: Report, retrievers: dict[str, Retriever]) -> None:
    known = {t.dia_id for t in sample.turns}
    for question in sample.questions:
        gold = {unit_key(d, unit) for d in question.evidence if d in known}
        if not question.evidence:
            report.skipped += 1
            continue
        if not gold:
            report.unmatched += 1
            continue
        report.questions += 1
        for name, retrieve in retrievers.items():
            getattr(report, name).add(question, retrieve(question.question), gold)


# -- output -------------------------------------------------------------------------------


def table(report: Report) -> str:
    head = (
        f"{'':<16}{'n':>5}  {'recall any@5':>12} {'any@10':>7} {'MRR':>6}   {'bm25 any@5':>10} {'any@10':>7} {'MRR':>6}"
    )
    lines = [
        f"# LoCoMo evidence recall: {report.file}, unit {report.unit}, {report.samples} sample(s), "
        f"{report.questions} question(s) asked, {report.skipped} skipped (no evidence)"
        + (f", {report.unmatched} skipped (evidence names no turn)" if report.unmatched else ""),
        head,
    ]
    rows = [("overall", report.recall.overall, report.bm25.overall)]
    for category in sorted(report.recall.categories):
        name = f"{category} {CATEGORY_NAMES.get(category, '')}".strip()
        rows.append((name, report.recall.categories[category], report.bm25.categories[category]))
    for name, mine, theirs in rows:
        a, c = mine.figures(), theirs.figures()
        lines.append(
            f"{name:<16}{mine.questions:>5}  {a['any@5']:>12.3f} {a['any@10']:>7.3f} {a['mrr']:>6.3f}"
            f"   {c['any@5']:>10.3f} {c['any@10']:>7.3f} {c['mrr']:>6.3f}"
        )
    asked = max(1, report.questions)
    lines.append(
        f"build (repos + indexes) {report.build_seconds:.1f} s; questions {report.query_seconds:.1f} s "
        f"({report.query_seconds / asked * 1000:.1f} ms each, recall and BM25)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="a LoCoMo-format JSON file")
    parser.add_argument("--unit", choices=UNITS, default="turn", help="one block per dialogue turn or per session")
    parser.add_argument("--limit-samples", type=int, default=None, help="only the first N conversations")
    parser.add_argument(
        "--context", type=int, default=CONTEXT_TURNS, help="neighbouring turns on each side kept in a turn's block"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    report = evaluate(args.file, args.unit, args.limit_samples, context=args.context)
    print(json.dumps(report.to_json(), indent=1) if args.json else table(report))


if __name__ == "__main__":
    main(sys.argv[1:])
