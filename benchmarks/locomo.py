"""Retrieval quality on conversations: LoCoMo evidence recall, `mm recall` beside plain Okapi BM25.

    python benchmarks/locomo.py [FILE] [--unit turn|session|both] [--limit-samples N] [--json] [--no-cache]

FILE defaults to `../shared/data/locomo-dev.json` beside the repository (never copied into it);
when it is absent the script says so and exits 0.

Each conversation becomes memory repos written through the library in one commit each, one per
writing of the same text: one `note` per dialogue turn (or per session), title = the turn's first
words, body = "Speaker: text [shares a photo: caption]", `created` = the session date, and

- `author`:  the speaker as `author` (the documented way);
- `body`:    no metadata at all: what the body says is all there is;
- `subject`: the speaker as `subject` (`PER-caroline`), no author.

Every question is asked through `mindmem.search.recall.recall` (mode similar, limit 10) in each writing and
through plain Okapi BM25 (locomo_data.BM25) over exactly each block's title and body. A hit is a block
whose turn (or session) is in the question's evidence; questions without evidence are skipped and
counted. Printed: any@5, any@10 and MRR (of the first hit in the top 10), overall and per category.

Repos and their indexes are kept between runs in the system temp folder, keyed by the file and by
how blocks are written; the index is rebuilt when mindmem's index code changes (`--no-cache` builds
everything afresh in a temporary folder).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from locomo_data import BM25, Question, Sample, evidence_ids, load  # noqa: F401  (re-exported for tests)

from mindmem.errors import BadInput
from mindmem.search import index
from mindmem.search.recall import recall
from mindmem.store import blocks as b
from mindmem.store.blocks import Block
from mindmem.store.memory import Memory
from mindmem.store.repo import GitRepo, Person

DEFAULT_FILE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomo-dev.json"
UNITS = ("turn", "session")
WRITINGS = ("author", "body", "subject")
CUTOFFS = (5, 10)
DEPTH = max(CUTOFFS)
TITLE_WORDS = 8
PERSON = Person("LoCoMo", "locomo@mindmem.invalid")
CATEGORY_NAMES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
# Bump when the blocks written change: cached repos are keyed by it.
WRITING_VERSION = 2
# The index is derived from these; a cached repo's index is rebuilt when they change.
INDEX_SOURCES = ("index.py", "index_files.py", "document.py", "terms.py")
REFERENCE = {"turn": (0.566, 0.646, 0.423), "session": (0.898, 0.952, 0.780)}


# -- units and blocks -------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """What one block holds: a turn (key = dia_id) or a session (key = S<n>)."""

    key: str
    when: str
    speaker: str
    title: str
    body: str


def units(sample: Sample, unit: str) -> list[Unit]:
    out = []
    for session in sample.sessions:
        when = f"{session.when:%Y-%m-%dT%H:%M:00Z}"
        lines = [f"{t.speaker}: {t.said}" for t in session.turns]
        if unit == "session":
            first = session.turns[0]
            out.append(Unit(f"S{session.number}", when, first.speaker, first_words(first.said), "\n".join(lines)))
            continue
        for turn, line in zip(session.turns, lines, strict=True):
            out.append(Unit(turn.dia_id, when, turn.speaker, first_words(turn.said), line))
    return out


def first_words(text: str) -> str:
    words = text.split()
    return " ".join(words[:TITLE_WORDS]) + (" …" if len(words) > TITLE_WORDS else "") if words else "(no text)"


def unit_key(dia_id: str, unit: str) -> str:
    return dia_id if unit == "turn" else f"S{dia_id[1:].split(':')[0]}"


def person_id(name: str) -> str:
    """The speaker's entity ID: PER-<slug>, or a hash when the name has no ASCII letters to slug."""
    try:
        return "PER-" + b.slugify(name)
    except BadInput:
        return "PER-speaker-" + hashlib.sha1(name.encode()).hexdigest()[:6]


def to_blocks(sample: Sample, unit: str, writing: str = "author") -> dict[str, Block]:
    """unit key -> block. IDs are N-<session date>-<6 hex of sha1(sample, key)>: the same file gives the
    same IDs; a collision within a sample (vanishingly rare) takes the next hash in a fixed order.
    A session's speaker (for `author` and `subject`) is whoever speaks first in it."""
    out: dict[str, Block] = {}
    taken: set[str] = set()
    for u in units(sample, unit):
        salt = 0
        while True:
            digest = hashlib.sha1(f"{sample.sample_id}/{u.key}/{salt}".encode()).hexdigest()[:6]
            block_id = f"N-{u.when[:10].replace('-', '')}-{digest}"
            if block_id not in taken:
                break
            salt += 1
        taken.add(block_id)
        meta: dict[str, Any] = {"id": block_id, "type": "note", "title": u.title, "status": "active", "created": u.when}
        if writing == "author":
            meta["author"] = u.speaker
        elif writing == "subject":
            meta["subject"] = person_id(u.speaker)
        out[u.key] = b.from_mapping(meta, u.body, f"{sample.sample_id}:{u.key}")
    return out


def bm25_docs(sample: Sample, unit: str) -> dict[str, str]:
    """What the baseline indexes: exactly each block's title and body."""
    return {key: f"{blk.title}\n{blk.body}" for key, blk in to_blocks(sample, unit, "body").items()}


def build_repo(path: Path, sample: Sample, unit: str, writing: str = "author") -> tuple[Memory, dict[str, str]]:
    """A memory repo at `path` holding the sample's blocks in one commit; (memory, block id -> unit key)."""
    GitRepo.init(path)
    Memory.init(path, mode="detect_only", commit=True)
    memory = Memory(path)
    found = to_blocks(sample, unit, writing)
    files = {f"{memory.root}/{b.block_relpath(blk)}": b.render(blk).encode() for blk in found.values()}
    memory.git.commit_files(memory.settings.governed_branch, files, f"LoCoMo {sample.sample_id}: {unit}s", PERSON)
    return memory, {blk.id: key for key, blk in found.items()}


def cached_repo(root: Path, file_hash: str, sample: Sample, unit: str, writing: str) -> tuple[Memory, dict[str, str]]:
    """`build_repo` under `root`, reused when the same file and writing were built before; its index
    is built (or rebuilt when mindmem's index code changed since) before it is returned."""
    key = hashlib.sha1(f"{file_hash}/{WRITING_VERSION}/{sample.sample_id}/{unit}/{writing}".encode()).hexdigest()
    path = root / key[:16]
    ready = path.parent / f"{path.name}.json"
    if ready.exists():
        memory, keys = Memory(path), json.loads(ready.read_text())
    else:
        memory, keys = build_repo(path, sample, unit, writing)
        ready.write_text(json.dumps(keys))
    stamp = path.parent / f"{path.name}.index"
    code = _index_code()
    if stamp.exists() and stamp.read_text() == code:
        index.catch_up(memory)
    else:
        index.rebuild(memory)
        stamp.write_text(code)
    return memory, keys


def _index_code() -> str:
    folder = Path(index.__file__).parent
    digest = hashlib.sha1()
    for name in INDEX_SOURCES:
        if (folder / name).exists():
            digest.update((folder / name).read_bytes())
    return digest.hexdigest()


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
    """One unit's figures: `scores` per retriever (bm25, then mm recall in each writing)."""

    file: str
    unit: str
    samples: int = 0
    questions: int = 0
    skipped: int = 0
    scores: dict[str, Scores] = field(default_factory=dict)
    # Plain BM25 over the body alone ("Speaker: text"), as the reference figures were measured.
    body_bm25: Scores = field(default_factory=Scores)
    build_seconds: float = 0.0
    query_seconds: float = 0.0
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
            **{name: s.to_json() for name, s in self.scores.items()},
            "bm25_body_only": self.body_bm25.to_json(),
            "build_seconds": round(self.build_seconds, 2),
            "query_seconds": round(self.query_seconds, 2),
        }


Retriever = Callable[[str], list[str]]


def evaluate(
    path: Path,
    unit: str = "turn",
    limit_samples: int | None = None,
    *,
    writings: Sequence[str] = WRITINGS,
    workdir: Path | None = None,
    cache: bool = True,
    workers: int | None = None,
) -> Report:
    """Build (or reuse) a repo per sample and writing, ask every question, tally.

    Repos are kept under `workdir` (default: the system temp folder) when `cache`, else in a
    temporary folder removed afterwards. Each repo's questions go to one of `workers` processes
    (default: one per core); every answer is the same as in one process."""
    if unit not in UNITS:
        raise SystemExit(f"--unit must be one of {', '.join(UNITS)}, not {unit!r}")
    samples = load(path, limit_samples)
    file_hash = hashlib.sha1(Path(path).read_bytes()).hexdigest()
    report = Report(str(path), unit, len(samples))
    report.scores = {name: Scores() for name in ("bm25", *writings)}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        root = (workdir or Path(tempfile.gettempdir())) / "mindmem-locomo" if cache else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        repos = {
            (n, writing): cached_repo(root, file_hash, sample, unit, writing)
            for n, sample in enumerate(samples)
            for writing in writings
        }
        report.build_seconds = time.perf_counter() - began
        began = time.perf_counter()
        with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            jobs = {
                key: pool.submit(_answers, memory.git.workdir, keys, [q.question for q in samples[key[0]].questions])
                for key, (memory, keys) in repos.items()
            }
            for n, sample in enumerate(samples):
                answers = {
                    "bm25": _answers_of(BM25(bm25_docs(sample, unit)).rank, sample),
                    "": _answers_of(BM25({u.key: u.body for u in units(sample, unit)}).rank, sample),
                }
                answers.update({writing: jobs[n, writing].result() for writing in writings})
                _tally(sample, report, answers)
        report.query_seconds = time.perf_counter() - began
    return report


def _answers(workdir: Path, keys: dict[str, str], questions: list[str]) -> list[list[str]]:
    """What `mm recall` (similar, limit 10) answers each question in the repo at `workdir`, as unit keys."""
    memory = Memory(workdir)
    return [[keys[h.id] for h in recall(memory, q, limit=DEPTH).hits if h.id in keys] for q in questions]


def _answers_of(retrieve: Retriever, sample: Sample) -> list[list[str]]:
    return [retrieve(q.question) for q in sample.questions]


def _tally(sample: Sample, report: Report, answers: dict[str, list[list[str]]]) -> None:
    """Count each question's answers (`""` names plain BM25 over the body alone)."""
    known = {t.dia_id for t in sample.turns}
    for n, question in enumerate(sample.questions):
        gold = {unit_key(d, report.unit) for d in question.evidence if d in known}
        if not question.evidence:
            report.skipped += 1
            continue
        if not gold:
            report.unmatched += 1
            continue
        report.questions += 1
        for name, ranked in answers.items():
            (report.scores[name] if name else report.body_bm25).add(question, ranked[n], gold)


# -- output -------------------------------------------------------------------------------


def table(report: Report) -> str:
    names = list(report.scores)
    lines = [
        f"# LoCoMo evidence recall: {report.file}, unit {report.unit}, {report.samples} conversation(s), "
        f"{report.questions} question(s) asked, {report.skipped} skipped (no evidence)"
        + (f", {report.unmatched} skipped (evidence names no turn)" if report.unmatched else ""),
        "# any@5 any@10 MRR; bm25 = plain Okapi BM25 over title + body; the others: mm recall per writing",
        f"{'':<16}{'n':>5}" + "".join(f"  {name + ' @5':>11} {'@10':>5} {'MRR':>5}" for name in names),
    ]
    rows = [("overall", {n: s.overall for n, s in report.scores.items()})]
    for category in sorted(report.scores["bm25"].categories):
        label = f"{category} {CATEGORY_NAMES.get(category, '')}".strip()
        rows.append((label, {n: s.categories[category] for n, s in report.scores.items()}))
    for label, tallies in rows:
        cells = "".join(
            f"  {f['any@5']:>11.3f} {f['any@10']:>5.3f} {f['mrr']:>5.3f}" for f in (tallies[n].figures() for n in names)
        )
        lines.append(f"{label:<16}{tallies['bm25'].questions:>5}{cells}")
    plain = report.body_bm25.overall.figures()
    ref = REFERENCE[report.unit]
    lines.append(
        f"# BM25 over the body alone: any@5 {plain['any@5']:.3f} any@10 {plain['any@10']:.3f} MRR {plain['mrr']:.3f}"
        f" (reference {ref[0]:.3f} / {ref[1]:.3f} / {ref[2]:.3f})"
    )
    mine = [report.scores[n].overall.figures() for n in names if n != "bm25"]
    if len(mine) > 1:
        spread = {k: max(f[k] for f in mine) - min(f[k] for f in mine) for k in ("any@5", "mrr")}
        lines.append(f"# spread between writings: any@5 {spread['any@5']:.3f}, MRR {spread['mrr']:.3f}")
    per = report.query_seconds / max(1, report.questions * len(names)) * 1000
    lines.append(
        f"# build (repos + indexes, cached when unchanged) {report.build_seconds:.1f} s; "
        f"questions {report.query_seconds:.1f} s ({per:.1f} ms per question and retriever)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, nargs="?", default=DEFAULT_FILE, help="a LoCoMo-format JSON file")
    parser.add_argument("--unit", choices=(*UNITS, "both"), default="both", help="one block per turn or per session")
    parser.add_argument("--limit-samples", type=int, default=None, help="only the first N conversations")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-cache", action="store_true", help="build every repo afresh in a temporary folder")
    args = parser.parse_args(argv)
    if not args.file.exists():
        print(f"# {args.file} not found: no LoCoMo data here, nothing measured (the data is never in the repo)")
        return
    reports = [
        evaluate(args.file, unit, args.limit_samples, cache=not args.no_cache)
        for unit in (UNITS if args.unit == "both" else (args.unit,))
    ]
    if args.json:
        print(json.dumps([r.to_json() for r in reports], indent=1))
    else:
        print("\n\n".join(map(table, reports)))


if __name__ == "__main__":
    main(sys.argv[1:])
