"""How a review packet reads: text for the terminal, Markdown for a pull request, and a Markdown
summary that always fits a size limit (GitHub refuses comments over 65,536 characters).

The summary keeps what a reviewer must see first: the verdict and counts, every critical
finding that fits, changes to governance files (.mindmem/: settings, approvers), then as
many blocks as fit, one line each, and says where the full packet is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mindmem.checks.findings import counts
from mindmem.errors import BadParameter

if TYPE_CHECKING:
    from mindmem.governance.review import Review

FORMATS = ("text", "markdown", "json")
MORE = "The full packet is in the job summary and the `mindmem-review` artifact (or run `mm review` locally)."


def render(packet: Review, fmt: str, max_chars: int | None = None) -> str:
    """The packet as `fmt` (text or markdown); with `max_chars`, Markdown longer than that becomes a summary."""
    if fmt not in FORMATS or fmt == "json":
        raise BadParameter(f"{{format}} '{fmt}' is not one of text, markdown")
    if fmt == "text":
        return _text(packet)
    full = _markdown(packet)
    if max_chars is None or len(full) <= max_chars:
        return full
    return summary(packet, max_chars, len(full))


APPROVAL_NEEDS = {
    "enforce": "a merge signed by a key in .mindmem/allowed_signers; critical findings refuse",
    "propose": "a merge by `mm approve` (signing optional); critical findings need --override and a rationale",
    "detect_only": "nothing: direct commits are allowed and findings only warn",
}


def value_text(value: Any) -> str:
    """A frontmatter value as it reads in a block file: `{axis: x, scope: y}`, `[a, b]`."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    return str(value)


def short(value: Any, limit: int | None = 80) -> str:
    text = " ".join(value_text(value).split())
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _text(p: Review) -> str:
    out = [f"{p.target}: {p.title}"]
    if p.governance:
        out += ["governance changes (who may do what):", *(f"  {c.detail}" for c in p.governance)]
    if p.author:
        out.append(f"author: {p.author}")
    out.append(f"base {(p.base or '-')[:12]}  head {p.head[:12]}  mode {p.mode}")
    if p.rationale:
        out += ["", "rationale:", *(f"  {line}" for line in p.rationale.splitlines())]
    out += ["", f"gate: {'allowed' if p.decision.allowed else 'refused'} ({p.decision.message})"]
    for f in p.findings:
        out.append(f"  {f.code} {f.severity} {f.location} {f.message}")
        if f.fix:
            out.append(f"    fix: {f.fix}")
    out += ["", f"paths ({len(p.paths)}):", *(f"  {path}" for path in p.paths)]
    out += ["", f"blocks ({len(p.blocks)}):"]
    for d in p.blocks:
        out.append(f"  {d.action} {d.block_id}  {d.title}")
        for c in d.fields:
            out.append(f"    {c.key}: {short(c.old)} -> {short(c.new)}")
        out += [f"    {line}" for line in d.body]
    for label, edges in (("edges added", p.edges_added), ("edges removed", p.edges_removed)):
        if edges:
            out += ["", f"{label}:", *(f"  {s} -{t}-> {x}" for s, t, x in edges)]
    if p.impact:
        out += ["", "impact (what rests on the changed blocks):"]
        for block_id, deps in p.impact:
            out.append(f"  {block_id}: " + ", ".join(f"{d.id} ({d.via}, depth {d.depth})" for d in deps))
    out += ["", "signatures:"]
    out += [f"  {c.sha[:12]} {c.signature}{f' by {c.signer}' if c.signer else ''}  {c.title}" for c in p.commits]
    out.append(f"  approval in {p.mode} mode needs {APPROVAL_NEEDS[p.mode]}")
    return "\n".join(out) + "\n"


def _cell(value: Any, limit: int | None = 120) -> str:
    return short(value, limit).replace("|", "\\|")


def _markdown(p: Review) -> str:
    out = _header(p) + _governance(p)
    if p.rationale:
        out += ["### Rationale", "", *(f"> {line}" if line else ">" for line in p.rationale.splitlines()), ""]
    out += _checks_heading(p)
    if p.findings:
        out += ["| code | severity | where | finding | fix |", "| --- | --- | --- | --- | --- |"]
        out += [
            f"| {f.code} | {f.severity} | `{f.location}` | {_cell(f.message, None)} | {_cell(f.fix or '', None)} |"
            for f in p.findings
        ]
        out.append("")
    out += [f"### Paths ({len(p.paths)})", "", *(f"- `{path}`" for path in p.paths), ""]
    out += [f"### Blocks ({len(p.blocks)})", ""]
    for d in p.blocks:
        out += [f"#### {d.action} `{d.block_id}` {_cell(d.title)}", ""]
        if d.fields:
            out += ["| field | before | after |", "| --- | --- | --- |"]
            out += [f"| {c.key} | {_cell(c.old)} | {_cell(c.new)} |" for c in d.fields]
            out.append("")
        if d.body:
            out += ["<details><summary>body</summary>", "", "```diff", *d.body, "```", "</details>", ""]
    if p.edges_added or p.edges_removed:
        out += ["### Edges", ""]
        out += [f"- added `{s}` —{t}→ `{x}`" for s, t, x in p.edges_added]
        out += [f"- removed `{s}` —{t}→ `{x}`" for s, t, x in p.edges_removed]
        out.append("")
    if p.impact:
        out += ["### Impact", "", "What rests on the changed blocks (cites, depends_on, derived_from, tested_by):", ""]
        for block_id, deps in p.impact:
            out.append(f"- `{block_id}` ← " + ", ".join(f"`{d.id}` ({d.via}, {d.depth} hop)" for d in deps))
        out.append("")
    out += ["### Signatures", ""]
    for c in p.commits:
        who = f" by {c.signer}" if c.signer else ""
        out.append(f"- `{c.sha[:12]}` {c.signature}{who}: {_cell(c.title)}")
    out += ["", f"Approval in `{p.mode}` mode needs {APPROVAL_NEEDS[p.mode]}."]
    return "\n".join(out) + "\n"


def _header(p: Review) -> list[str]:
    out = [f"## mindmem review: {p.target}", "", f"**{_cell(p.title)}**", ""]
    meta = [f"mode `{p.mode}`", f"base `{(p.base or '-')[:12]}`", f"head `{p.head[:12]}`"]
    if p.author:
        meta.insert(0, f"by {p.author}")
    return [*out, " · ".join(meta), ""]


def _checks_heading(p: Review) -> list[str]:
    verdict = "✅ approvable" if p.decision.allowed else "❌ refused"
    tally = counts(list(p.findings))
    summary = f"{tally['critical']} critical, {tally['warning']} warning, {tally['info']} info: {p.decision.message}."
    return [f"### Checks: {verdict}", "", summary if p.findings else "No findings.", ""]


def _governance(p: Review) -> list[str]:
    """Who may do what, field by field (proposals); for a range, the governance files it touches."""
    if p.governance:
        return ["### ⚠️ Governance changes", "", *(f"- {_cell(c.detail)}" for c in p.governance), ""]
    files = [path for path in p.paths if path.startswith(".mindmem/")]
    if not files:
        return []
    lines = ["### ⚠️ Governance files", "", "This change touches how memory is governed or who approves:", ""]
    return [*lines, *(f"- `{path}`" for path in files), ""]


class _Budget:
    """Lines added while they fit in `limit` characters (joined with newlines), keeping `reserve` free."""

    def __init__(self, limit: int, reserve: int) -> None:
        self.lines: list[str] = []
        self.left = limit - reserve

    def add(self, *lines: str) -> bool:
        cost = sum(len(line) + 1 for line in lines)
        if cost > self.left:
            return False
        self.lines.extend(lines)
        self.left -= cost
        return True


def summary(p: Review, max_chars: int, full_chars: int) -> str:
    """A Markdown packet of at most `max_chars` characters: verdict, counts, critical findings,
    governance files, then one line per block while they fit."""
    tail = ["", f"_Summary: the full packet is {full_chars:,} characters. {MORE}_"]
    reserve = sum(len(line) + 1 for line in tail) + 200  # room for the "… and N more" lines
    out = _Budget(max_chars, reserve)
    head = [*_header(p), *_governance(p), *_checks_heading(p)]
    if not out.add(*head):
        return _cut("\n".join(head), max_chars)
    critical = [f for f in p.findings if f.severity == "critical"]
    if critical:
        out.add("| code | where | finding |", "| --- | --- | --- |")
        for n, f in enumerate(critical):
            if not out.add(f"| {f.code} | `{f.location}` | {_cell(f.message, 300)} |"):
                out.lines.append(f"\n… and {len(critical) - n} more critical finding(s).")
                break
        out.add("")
    out.add(f"### Blocks ({len(p.blocks)})", "")
    for n, d in enumerate(p.blocks):
        fields = f" ({len(d.fields)} field(s))" if d.fields else ""
        if not out.add(f"- {d.action} `{d.block_id}` {_cell(d.title)}{fields}"):
            out.lines.append(f"- … and {len(p.blocks) - n} more block(s)")
            break
    return "\n".join([*out.lines, *tail]) + "\n"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 2] + "…\n"
