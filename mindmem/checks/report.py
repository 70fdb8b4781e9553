"""How findings are shown: `CODE severity path:line message` + a `fix:` line, or JSON."""

from __future__ import annotations

from typing import Any

from mindmem.checks.context import CheckContext
from mindmem.checks.findings import Finding, at_least, counts


def text_lines(ctx: CheckContext, findings: list[Finding], min_severity: str = "info") -> list[str]:
    out = []
    for finding in findings:
        if at_least(finding.severity, min_severity):
            out.append(f"{finding.code} {finding.severity} {finding.location} {finding.message}")
            if finding.fix:
                out.append(f"  fix: {finding.fix}")
    tally = counts(findings)
    summary = ", ".join(f"{n} {sev}" for sev, n in tally.items() if n) or "no findings"
    out.append(f"{summary} ({len(ctx.focus)} block(s) checked in {ctx.label})")
    return out


def to_json(ctx: CheckContext, findings: list[Finding], min_severity: str = "info") -> dict[str, Any]:
    return {
        "target": ctx.label,
        "checked": len(ctx.focus),
        "counts": counts(findings),
        "findings": [f.to_json() for f in findings if at_least(f.severity, min_severity)],
    }
