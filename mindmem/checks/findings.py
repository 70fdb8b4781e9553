"""What a check reports: `Finding`, with an optional machine-applicable `Edit` list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mindmem.jsonable import Jsonable

SEVERITIES = ("critical", "warning", "info")
# Code letter -> family; the code's digits are stable once published (docs/checks.md lists them).
FAMILY_OF_CODE = {
    "S": "schema",
    "G": "graph",
    "C": "contradictions",
    "F": "freshness",
    "X": "safety",
    "P": "proposal",  # findings on a proposal as a whole, from governance (files outside memory, authorship)
}
EDIT_OPS = ("add_edge", "remove_edge", "set_status")


@dataclass(frozen=True)
class Edit:
    """One change to one block that resolves (part of) a finding; `mm check --fix` applies these."""

    block_id: str
    op: str
    edge: str | None = None
    target: str | None = None
    status: str | None = None

    def describe(self) -> str:
        if self.op == "set_status":
            return f"set status of {self.block_id} to {self.status}"
        verb = "add" if self.op == "add_edge" else "remove"
        return f"{verb} `{self.edge}: [{self.target}]` {'to' if verb == 'add' else 'from'} {self.block_id}"

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Finding(Jsonable):
    """One problem: a stable code (MM-C002), a severity, the blocks involved, where, and how to fix it."""

    code: str
    severity: str
    message: str
    blocks: tuple[str, ...] = ()
    path: str | None = None
    line: int | None = None
    end_line: int | None = None
    fix: str | None = None
    edits: tuple[Edit, ...] = ()

    json_extra = ("family",)

    @property
    def family(self) -> str:
        return FAMILY_OF_CODE[self.code.removeprefix("MM-")[0]]

    @property
    def location(self) -> str:
        if self.path is None:
            return "-"
        return f"{self.path}:{self.line}" if self.line else self.path


def at_least(severity: str, minimum: str) -> bool:
    """True when `severity` is `minimum` or more severe."""
    return SEVERITIES.index(severity) <= SEVERITIES.index(minimum)


def sort_key(finding: Finding) -> tuple[int, str, int, str, tuple[str, ...]]:
    return (SEVERITIES.index(finding.severity), finding.path or "", finding.line or 0, finding.code, finding.blocks)


def counts(findings: list[Finding]) -> dict[str, int]:
    return {sev: sum(1 for f in findings if f.severity == sev) for sev in SEVERITIES}
