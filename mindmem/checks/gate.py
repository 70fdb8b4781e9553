"""The approve gate: what the findings on a proposal mean under each governance mode."""

from __future__ import annotations

from dataclasses import dataclass

from mindmem.checks.findings import Finding, counts
from mindmem.errors import BadInput
from mindmem.vocabulary import GOVERNANCE_MODES as MODES

# Trailers stay readable in `git log`; the full list is in `mm review`.
MAX_FINDING_TRAILERS = 20


@dataclass(frozen=True)
class GateDecision:
    """Whether an approval may go ahead, why, and the trailers to write into the approval commit."""

    allowed: bool
    mode: str
    overridden: bool
    blocking: tuple[Finding, ...]
    message: str
    trailers: dict[str, str | list[str]]


def gate(findings: list[Finding], mode: str, override: bool = False) -> GateDecision:
    """Decide an approval: `enforce` refuses critical findings, `propose` needs an override, `detect_only` warns.

    The caller (approve) checks that an override comes with a rationale.
    """
    if mode not in MODES:
        raise BadInput(f"mode '{mode}' is not one of {', '.join(MODES)}")
    critical = tuple(f for f in findings if f.severity == "critical")
    overridden = False
    if not critical:
        allowed, message = True, "no critical findings"
    elif mode == "detect_only":
        allowed, message = True, f"{len(critical)} critical finding(s) recorded; detect_only mode does not refuse"
    elif mode == "propose" and override:
        allowed, overridden = True, True
        message = f"{len(critical)} critical finding(s) overridden by the approver"
    elif mode == "propose":
        allowed = False
        message = (
            f"{len(critical)} critical finding(s); fix them (`mm check --proposal P --fix`) "
            "or approve with --override and a rationale"
        )
    else:
        allowed = False
        message = (
            f"{len(critical)} critical finding(s); enforce mode refuses them. "
            "Fix the proposal (`mm check --proposal P --fix`) and approve again"
        )
    return GateDecision(allowed, mode, overridden, critical, message, trailers(findings, overridden))


def trailers(findings: list[Finding], overridden: bool = False) -> dict[str, str | list[str]]:
    """Trailers for the approval commit (`trailers.compose` joins a list with ", ").

    `Mm-Check-Summary: 1 critical, 0 warning, 2 info`, then `Mm-Check: CODE severity ID ID, …`
    (most severe first, at most MAX_FINDING_TRAILERS), and `Mm-Check-Override: yes` when overridden.
    """
    tally = counts(findings)
    out: dict[str, str | list[str]] = {
        "Mm-Check-Summary": f"{tally['critical']} critical, {tally['warning']} warning, {tally['info']} info"
    }
    shown = [f"{f.code} {f.severity} {' '.join(f.blocks) or '-'}" for f in findings[:MAX_FINDING_TRAILERS]]
    if len(findings) > MAX_FINDING_TRAILERS:
        shown.append(f"and {len(findings) - MAX_FINDING_TRAILERS} more")
    if shown:
        out["Mm-Check"] = shown
    if overridden:
        out["Mm-Check-Override"] = "yes"
    return out
