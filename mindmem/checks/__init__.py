"""Checks on memory blocks (DESIGN.md section 5): one module per family, one registry.

    ctx = context_for(memory, proposal="P-20261125-ab12cd")   # or staged=True, rev_range="A..B"
    findings = run_checks(ctx)
    decision = gate(findings, memory.settings.mode, override=False)

Families: schema (MM-S), graph (MM-G), contradictions (MM-C),
freshness (MM-F), safety (MM-X). Codes are listed in docs/checks.md.
"""

from mindmem.checks.context import CheckContext
from mindmem.checks.findings import SEVERITIES, Edit, Finding
from mindmem.checks.gate import GateDecision, gate, trailers
from mindmem.checks.registry import FAMILIES, run_checks
from mindmem.checks.sources import Merge, context_for

__all__ = [
    "FAMILIES",
    "SEVERITIES",
    "CheckContext",
    "Edit",
    "Finding",
    "GateDecision",
    "Merge",
    "context_for",
    "gate",
    "run_checks",
    "trailers",
]
