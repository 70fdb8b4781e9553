"""The check families, in the order they run, and `run_checks`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from mindmem.checks import contradictions, freshness, graph, safety, schema
from mindmem.checks.context import CheckContext
from mindmem.checks.findings import SEVERITIES, Finding, at_least, sort_key
from mindmem.errors import BadInput

FAMILIES: dict[str, Callable[[CheckContext], Iterable[Finding]]] = {
    "schema": schema.check,
    "graph": graph.check,
    "contradictions": contradictions.check,
    "freshness": freshness.check,
    "safety": safety.check,
}


def run_checks(
    ctx: CheckContext, *, families: Iterable[str] | None = None, min_severity: str = "info"
) -> list[Finding]:
    """Every finding of the chosen families (default: all) at `min_severity` or above, most severe first."""
    if min_severity not in SEVERITIES:
        raise BadInput(f"severity '{min_severity}' is not one of {', '.join(SEVERITIES)}")
    chosen = list(FAMILIES) if families is None else list(families)
    unknown = [name for name in chosen if name not in FAMILIES]
    if unknown:
        raise BadInput(f"unknown check family '{unknown[0]}'; expected one of {', '.join(FAMILIES)}")
    found: dict[Finding, None] = {}
    for name in chosen:
        for finding in FAMILIES[name](ctx):
            if at_least(finding.severity, min_severity):
                found.setdefault(finding)
    return sorted(found, key=sort_key)
