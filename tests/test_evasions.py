"""The evasion corpus (tests/fixtures/evasions): disguised injections, hidden payloads, split secrets."""

from __future__ import annotations

import json
from pathlib import Path

from mindmem.checks.safety import scan

CASES = json.loads((Path(__file__).parent / "fixtures/evasions/cases.json").read_text(encoding="utf-8"))["cases"]
HEAD = "---\nid: N-20260101-abcdef\ntype: note\ntitle: A note\nstatus: active\ncreated: 2026-01-01\n"


def yaml_escaped(text: str) -> str:
    """A double-quoted YAML string where every character outside printable ASCII is an escape."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(f"\\U{ord(ch):08X}")
    return '"' + "".join(out) + '"'


def as_block(case: dict) -> str:
    if case["where"] == "field":
        return f"{HEAD}summary: {yaml_escaped(case['text'])}\n---\nA plain body.\n"
    return f"{HEAD}---\n{case['text']}\n"


def flagged_critical(case: dict) -> bool:
    codes = {"injection": ("MM-X001", "MM-X002"), "hidden": ("MM-X001",), "secret": ("MM-X003",)}[case["kind"]]
    return any(code in codes and severity == "critical" for code, severity, *_ in scan(as_block(case)))


def test_the_corpus_is_big_enough_and_labelled() -> None:
    assert len(CASES) >= 60
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert all(c["kind"] in ("injection", "hidden", "secret") and c["disguise"] and c["text"] for c in CASES)


def test_at_least_95_percent_of_the_corpus_is_flagged_critical() -> None:
    missed = [f"{c['id']} ({c['disguise']}, in the {c['where']})" for c in CASES if not flagged_critical(c)]
    assert len(missed) <= len(CASES) * 0.05, "\n".join(missed)


def test_a_disguised_injection_is_an_injection_finding_not_only_a_hidden_character() -> None:
    # A hidden character alone could be a warning; the phrase behind it must still be MM-X002, critical.
    # (The "hard-" cases are disguises the gate does not undo yet; they count against the 95%.)
    for case in CASES:
        if case["id"].startswith("inj-"):
            found = {(code, severity) for code, severity, *_ in scan(as_block(case))}
            assert ("MM-X002", "critical") in found, (case["id"], case["disguise"], case["where"])
