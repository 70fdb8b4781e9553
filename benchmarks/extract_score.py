"""Extraction quality on the labelled sets in benchmarks/extraction/: precision, recall and F1 per type.

Each `NN-name.md` is a short document written for the purpose (meeting notes, chat logs, incident
write-ups, ADRs, stand-ups, PR descriptions); `NN-name.expected` lists what a careful person would
keep, one per line:

    decision | <words the decision's sentence contains>
    task | <words of its sentence> | <assignee PER-…, or -> | <due YYYY-MM-DD, or ->
    entity | <ID, e.g. TOOL-postgresql>

A found candidate matches an expected one of the same type whose words overlap its span (each
expected item is matched at most once); entities match by ID, a person also by first name
(PER-bob for PER-bob-chen). Notes are not scored. An entity matching nothing labelled is a false
positive; it is counted as invented when its name does not occur in the document, and as unlabelled
when it does (a label gap or a word taken for a name: read them). Relative dates count from 2026-11-24.

benchmarks/extraction/heldout (`--set heldout`, 8 documents) was written after the rules changes of
session 20, which were made reading the misses on benchmarks/extraction/docs, and not tuned on until
stop 22 (docs/benchmarks.md says how). benchmarks/extraction/fresh (`--set fresh`, 10 documents) was
written at the end of stop 22, its labels committed before any extractor ran on it, and nothing is
tuned on it: the clean measurement. `--set all` is the three sets, pooled.

    python benchmarks/extract_score.py                       # rules only
    python benchmarks/extract_score.py --model 1.5b --docs 10 # + the model and hybrid, on 10 documents
    python benchmarks/extract_score.py --set all --model 0.5b --save /tmp/run.json
    python benchmarks/extract_score.py --set heldout --replay /tmp/run.json  # hybrid now, on saved replies

A saved run keeps each call's question, a digest of its system prompt, the reply, seconds, CPU
seconds, the load average and llama.cpp's token counts, so a change to how hybrid uses the labels
can be scored without the model (--replay); a changed prompt or question needs a new run.

--model takes 0.5b, 1.5b (fetched by benchmarks/models.py) or a GGUF path.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mindmem.errors import BadInput
from mindmem.extract import get_extractor
from mindmem.extract.base import Candidate, Context, Extraction, Span
from mindmem.extract.hybrid import HybridExtractor
from mindmem.extract.reply import mentions
from mindmem.store.snapshot import Snapshot

SETS = Path(__file__).resolve().parent / "extraction"
SET_NAMES = ("docs", "heldout", "fresh")
TYPES = ("decision", "task", "fact", "incident", "entity")
REFERENCE = date(2026, 11, 24)


@dataclass(frozen=True)
class Expected:
    type: str
    text: str  # words of the sentence, or an entity ID
    start: int
    end: int
    assignee: str | None = None
    due: str | None = None


def load(limit: int | None = None, start: int = 0, name: str = "docs") -> list[tuple[str, str, list[Expected]]]:
    """The documents of a set with their labels; "all" is every set, each name led by its set's."""
    if name == "all":
        every = [(f"{part}/{doc}", text, items) for part in SET_NAMES for doc, text, items in load(name=part)]
        return every[start:limit]
    out = []
    for path in sorted((SETS / name).glob("*.md"))[start:limit]:
        text = path.read_text()
        items = []
        for line in path.with_suffix(".expected").read_text().splitlines():
            parts = [p.strip() for p in line.split("|")]
            if parts[0] == "entity":
                items.append(Expected("entity", parts[1], -1, -1))
                continue
            start = text.find(parts[1])
            if start < 0:
                raise SystemExit(f"{path.name}: expected span {parts[1]!r} is not in the document")
            extra = [None if p == "-" else p for p in parts[2:4]] + [None, None]
            items.append(Expected(parts[0], parts[1], start, start + len(parts[1]), extra[0], extra[1]))
        out.append((path.name, text, items))
    return out


def _same_person(found: str, expected: str) -> bool:
    if found == expected:
        return True
    a, b = found.split("-"), expected.split("-")
    return a[0] == b[0] == "PER" and a[1] == b[1]


def _matches(cand: Candidate, item: Expected) -> bool:
    if cand.type != item.type:
        return False
    if item.type == "entity":
        return cand.id is not None and _same_person(cand.id, item.text)
    return cand.span.start < item.end and item.start < cand.span.end


def score(found: Extraction, expected: list[Expected], text: str) -> dict[str, list[int]]:
    """Per type [true positives, false positives, false negatives], plus task field hits, and entities
    matching no label: [named in the text, not named in it (invented), 0]."""
    counts = {t: [0, 0, 0] for t in (*TYPES, "assignee", "due", "unlabelled")}
    left = list(expected)
    for cand in found.candidates:
        if cand.type not in TYPES:
            continue
        hit = next((item for item in left if _matches(cand, item)), None)
        if hit is None:
            counts[cand.type][1] += 1
            if cand.type == "entity":
                counts["unlabelled"][0 if mentions(text, cand.title) else 1] += 1
            continue
        left.remove(hit)
        counts[cand.type][0] += 1
        if cand.type == "task":
            for name, want in (("assignee", hit.assignee), ("due", hit.due)):
                if want is not None:
                    got = cand.fields.get(name)
                    ok = got is not None and (got == want if name == "due" else _same_person(str(got), want))
                    counts[name][0 if ok else 2] += 1
    for item in left:
        counts[item.type][2] += 1
    return counts


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def report(label: str, runs: list[dict[str, list[int]]], seconds: list[float]) -> dict[str, float]:
    total = {k: [sum(r[k][i] for r in runs) for i in range(3)] for k in runs[0]}
    print(f"\n{label}  ({len(runs)} documents, {statistics.median(seconds):.2f} s per document p50)")
    print(f"  {'type':<9} {'P':>5} {'R':>5} {'F1':>5}   tp  fp  fn")
    for t in TYPES:
        p, r, f = _f1(*total[t])
        print(f"  {t:<9} {p:>5.2f} {r:>5.2f} {f:>5.2f} {total[t][0]:>4} {total[t][1]:>3} {total[t][2]:>3}")
    micro = [sum(total[t][i] for t in TYPES) for i in range(3)]
    p, r, f = _f1(*micro)
    print(f"  {'all':<9} {p:>5.2f} {r:>5.2f} {f:>5.2f} {micro[0]:>4} {micro[1]:>3} {micro[2]:>3}   F1 {f:.4f}")
    for name in ("assignee", "due"):
        hits, misses = total[name][0], total[name][2]
        print(f"  task {name} right: {hits}/{hits + misses}")
    named, invented = total["unlabelled"][:2]
    print(f"  entities matching no label: {named} named in the text, {invented} invented (name not in the text)")
    return {"f1": f, "precision": p, "recall": r, "invented": invented}


def _model_path(name: str) -> str:
    if name in ("0.5b", "1.5b"):
        from models import model_path

        path = model_path(f"qwen-{name}")
        if not path.exists():
            raise SystemExit(f"{path} is missing: run python benchmarks/models.py qwen-{name}")
        return str(path)
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="0.5b, 1.5b or a GGUF path: also score the model alone and hybrid")
    parser.add_argument("--docs", type=int, help="only the first N documents")
    parser.add_argument("--set", default="docs", choices=(*SET_NAMES, "all"), help="the labelled set (default docs)")
    parser.add_argument("--start", type=int, default=0, help="skip the first K documents")
    parser.add_argument("--threads", type=int, help="llama.cpp threads (default: one per physical core)")
    parser.add_argument("--alone", action="store_true", help="also score the model writing candidates alone (slow)")
    parser.add_argument("--save", type=Path, help="write every candidate and timing here as JSON")
    parser.add_argument(
        "--scored",
        type=Path,
        nargs="+",
        help="score files --save wrote (runs cut short or in parts) instead of running",
    )
    parser.add_argument(
        "--replay",
        type=Path,
        nargs="+",
        help="run hybrid as it is now with the model's replies from files --save wrote (no model is loaded)",
    )
    args = parser.parse_args()
    if args.scored:
        rescore(load(name=args.set), [entry for path in args.scored for entry in json.loads(path.read_text())])
        return
    docs = load(args.docs, args.start, args.set)
    rules = get_extractor("rules")
    model, hybrid = None, None
    if args.replay:
        hybrid = HybridExtractor.around(
            Timed(Replayed([e for path in args.replay for e in json.loads(path.read_text())]))
        )
        args.model = f"replies saved in {', '.join(path.name for path in args.replay)}"
    elif args.model:
        options = {"model": _model_path(args.model), **({"threads": args.threads} if args.threads else {})}
        hybrid = get_extractor("hybrid", options)
        model = hybrid.model  # the same loaded Llama: writing candidates alone (--alone), or labelling
        hybrid.model = Timed(model)
    runs: dict[str, list] = {"rules": [], "model": [], "hybrid": []}
    times: dict[str, list[float]] = {"rules": [], "model": [], "hybrid": []}
    saved = []
    for name, text, expected in docs:
        context = Context(REFERENCE, Snapshot(None), name)
        start = time.perf_counter()
        found = rules.extract(text, context)
        times["rules"].append(time.perf_counter() - start)
        runs["rules"].append(score(found, expected, text))
        entry: dict = {"doc": name, "rules": found.to_json()}
        if hybrid is not None:
            calls, start = len(hybrid.model.calls), time.perf_counter()
            both = hybrid.extract(text, context)
            times["hybrid"].append(time.perf_counter() - start)
            runs["hybrid"].append(score(both, expected, text))
            entry.update(hybrid=both.to_json(), seconds=times["hybrid"][-1], calls=hybrid.model.calls[calls:])
            print(f"{name}: hybrid {times['hybrid'][-1]:.1f} s, {len(entry['calls'])} calls", flush=True)
        if model is not None and args.alone:
            start = time.perf_counter()
            try:
                by_model = model.extract(text, context)
            except BadInput as exc:  # every chunk unusable: counts as finding nothing
                by_model = Extraction("llama-cpp", (), (str(exc),))
            times["model"].append(time.perf_counter() - start)
            runs["model"].append(score(by_model, expected, text))
            entry.update(model=by_model.to_json(), model_seconds=times["model"][-1])
            print(f"{name}: model alone {times['model'][-1]:.1f} s", flush=True)
        saved.append(entry)
        if args.save:
            args.save.write_text(json.dumps(saved, indent=1))
    report("rules", runs["rules"], times["rules"])
    if hybrid is not None:
        report(f"hybrid (rules + {Path(args.model).name} labelling)", runs["hybrid"], times["hybrid"])
        if not args.replay:
            _speed(hybrid.model.calls, "labelling")
    if runs["model"]:
        report(f"model alone ({Path(args.model).name})", runs["model"], times["model"])
        _speed(model.calls, "writing candidates alone")


class Timed:
    """A model's `complete_json` with each call's seconds and token counts recorded."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.calls: list[dict] = []

    def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int | None = None
    ) -> str:
        start, cpu, usable, raw = time.perf_counter(), time.process_time(), False, None
        try:
            raw = self.model.complete_json(messages, schema, max_tokens)
            usable = True
            return raw
        finally:
            took, load = time.perf_counter() - start, os.getloadavg()[0]
            # To replay the labels through changed code (--replay): the question, its system prompt, the reply.
            asked = {"asked": messages[-1]["content"], "system": _digest(messages[0]["content"]), "reply": raw}
            used = {"seconds": took, "cpu_seconds": time.process_time() - cpu, "load": load, "usable": usable}
            self.calls.append({**used, **self.model.last_usage, **asked})


class Replayed:
    """The replies of a saved run, by the question asked: hybrid's current code on a model's saved
    judgement (a question the run never asked, after a change to the rules or the prompt, is an error)."""

    def __init__(self, saved: list[dict]) -> None:
        calls = [call for entry in saved for call in entry.get("calls", [])]
        self.replies = {call["asked"]: call["reply"] for call in calls}
        self.systems = {call["system"] for call in calls if "system" in call}  # runs saved before it: unchecked
        self.last_usage: dict[str, float] = {}

    def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int | None = None
    ) -> str:
        asked = messages[-1]["content"]
        if self.systems and _digest(messages[0]["content"]) not in self.systems:
            raise SystemExit("the saved runs had another system prompt; run the model again")
        if asked not in self.replies:
            raise SystemExit(f"the saved runs never asked this; run the model again:\n{asked}")
        reply = self.replies[asked]
        if reply is None:
            raise BadInput("the saved reply was unusable")
        return reply


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def rescore(docs: list[tuple[str, str, list[Expected]]], saved: list[dict]) -> None:
    """The report for the documents a saved run got through: the rules as they are now (quick and
    deterministic), hybrid and the model alone as they were saved."""
    expected = {name: items for name, _text, items in docs}
    texts = {name: text for name, text, _items in docs}
    runs: dict[str, list] = {"rules": [], "model": [], "hybrid": []}
    seconds: dict[str, list[float]] = {"rules": [], "model": [], "hybrid": []}
    for entry in saved:
        rules = get_extractor("rules").extract(texts[entry["doc"]], Context(REFERENCE, Snapshot(None), entry["doc"]))
        runs["rules"].append(score(rules, expected[entry["doc"]], texts[entry["doc"]]))
        seconds["rules"].append(0.0)
        for label, key in (("hybrid", "seconds"), ("model", "model_seconds")):
            if label in entry:
                runs[label].append(score(_extraction(entry[label]), expected[entry["doc"]], texts[entry["doc"]]))
                seconds[label].append(entry[key])
    for label in runs:
        if runs[label]:
            report(label, runs[label], seconds[label])
    _speed([call for entry in saved for call in entry.get("calls", [])], "labelling")


def _extraction(data: dict) -> Extraction:
    cands = tuple(
        Candidate(
            key=c["key"], type=c["type"], title=c["title"], span=Span(**c["span"]), body=c["body"],
            fields=c["fields"], edges=tuple((e["type"], e["target"]) for e in c["edges"]), id=c["id"],
            existing=c["existing"], confidence=c["confidence"],
        )
        for c in data["candidates"]
    )  # fmt: skip
    return Extraction(data["backend"], cands, tuple(data["warnings"]))


def _speed(calls: list[dict], what: str = "writing candidates alone") -> None:
    if not calls:
        return
    usable = sum(1 for c in calls if c["usable"])
    per_call = [c["seconds"] for c in calls]
    later = calls[1:] or calls
    print(
        f"\nmodel speed, {what}: {len(calls)} calls, {usable} usable replies ({100 * usable / len(calls):.1f}%), "
        f"p50 {statistics.median(per_call):.2f} s per call, max {max(per_call):.1f} s, first {per_call[0]:.1f} s"
    )
    if "cpu_seconds" in calls[0]:
        loads = [c["load"] for c in calls]
        cpu = statistics.median(c["cpu_seconds"] for c in calls)
        print(f"  CPU s per call p50 {cpu:.2f}; load average (1 min) {min(loads):.1f}-{max(loads):.1f}")
    prompt = statistics.median(c.get("prompt_tokens", 0) for c in calls)
    reply = statistics.median(c.get("completion_tokens", 0) for c in calls)
    print(f"  prompt tokens p50 {prompt:.0f}, reply tokens p50 {reply:.0f}")
    if "prompt_evaluated" in calls[0]:
        evaluated = statistics.median(c["prompt_evaluated"] for c in later)
        prompt_rate = sum(c["prompt_evaluated"] for c in calls) / (sum(c["prompt_ms"] for c in calls) / 1000 or 1)
        gen_rate = sum(c["generated"] for c in calls) / (sum(c["generate_ms"] for c in calls) / 1000 or 1)
        print(
            f"  prompt tokens evaluated: first call {calls[0]['prompt_evaluated']}, later calls p50 {evaluated:.0f} "
            f"(the rest came from the KV cache); {prompt_rate:.1f} prompt tokens/s, {gen_rate:.1f} generated tokens/s"
        )
        slack = [c["max_tokens"] - c["completion_tokens"] for c in calls]
        print(f"  max_tokens left unused p50 {statistics.median(slack):.0f}, min {min(slack)} (0 would be a cut-off)")


if __name__ == "__main__":
    main()
