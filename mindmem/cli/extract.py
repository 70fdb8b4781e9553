"""`mm extract`: turn a conversation, notes or a log into proposed blocks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

from mindmem.cli.app import JsonOpt, app, echo, memory, print_json
from mindmem.cli.commands import Argument, Option
from mindmem.cli.progress import counter
from mindmem.errors import BadInput
from mindmem.store.text import STDIN, read_file, read_stdin

if TYPE_CHECKING:
    from datetime import date


@app.command()
def extract(
    source: Annotated[str, Argument(metavar="FILE|-", help="Text to read: a transcript, notes, a log; - for stdin.")],
    rationale: Annotated[
        Optional[str],
        Option("--rationale", "-r", help="Why these blocks should be in memory (for the proposal)."),
    ] = None,
    backend: Annotated[
        Optional[str],
        Option(
            help="rules, hybrid (rules, then a model adds what they miss), llama-cpp, ctransformers or openai. "
            "Default: hybrid when a model is configured (--model, MM_MODEL, config), else rules."
        ),
    ] = None,
    model: Annotated[Optional[str], Option(help="Model for a model backend (GGUF path or model name).")] = None,
    url: Annotated[Optional[str], Option(help="Endpoint for the openai backend.")] = None,
    reference_date: Annotated[
        Optional[str], Option(help="Date that relative dates count from (YYYY-MM-DD; default today).")
    ] = None,
    title: Annotated[Optional[str], Option(help="Proposal title.")] = None,
    dry_run: Annotated[bool, Option("--dry-run", help="Only show the candidates; propose nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Extract decisions, tasks, incidents, facts and entities from text, and propose them as one proposal.

    Every candidate is shown with the span of text it came from. Entities merge
    with the ones already in memory; relative dates ("by Friday") become absolute
    from --reference-date. Nothing lands without a person's `mm approve`.

    \b
    Example:
      mm extract examples/meeting.md --reference-date 2026-11-24 --dry-run
      mm extract notes.md -r "Billing sync notes, 24 Nov"
      mm extract call.txt --model ~/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf -r "Design call"
    """
    from mindmem.extract.run import extract as run_extract
    from mindmem.extract.run import propose
    from mindmem.governance.trailers import check_rationale

    if not dry_run:
        check_rationale(rationale)
    text, name = _read(source)
    ref = _date(reference_date)
    options: dict[str, Any] = {k: v for k, v in (("model", model), ("url", url)) if v}
    mem = memory()
    # A count for long model runs (the rules backend is too quick to show one), at a terminal only.
    progress = counter("extracting", after=1.0) if sys.stderr.isatty() and not as_json else None
    found = run_extract(mem, text, backend=backend, options=options, reference_date=ref, source=name, progress=progress)
    proposal = None if dry_run else propose(mem, found, rationale=rationale or "", title=title)
    if as_json:
        print_json({**found.to_json(), "proposal": proposal.id if proposal else None})
        return
    # Like `mm propose`: with a proposal, stdout is just its ID (for scripts) and the listing goes to stderr.
    _show(found, text, err=proposal is not None)
    if proposal:
        echo(proposal.id)
        echo(f"  review: mm diff {proposal.id}    approve: mm approve {proposal.id}", err=True)
    else:
        echo(f"dry run: {len(found.blocks)} block(s) would be proposed", err=True)


def _read(source: str) -> tuple[str, str]:
    if source == "-":
        return read_stdin(), STDIN
    path = Path(source)
    if not path.is_file():
        raise BadInput(f"{source}: no such file")
    return read_file(path, source), path.name


def _date(text: str | None) -> date | None:
    from datetime import date

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"--reference-date must be YYYY-MM-DD, not {text!r}") from None


def _show(found: Any, text: str, err: bool) -> None:
    by_key = {c.key: c for c in found.extraction.candidates}
    new_ids = {block.id for block in found.blocks}
    for cand in found.extraction.candidates:
        state = "existing" if cand.existing else "new"
        echo(f"{cand.type:<9} {cand.id or ''} {cand.title}  [{state}]", err=err)
        line = text.count("\n", 0, cand.span.start) + 1
        echo(f"    from line {line}: {' '.join(cand.span.text.split())[:100]}", err=err)
        for edge_type, target in cand.edges:
            name = by_key[target[4:]].title if target.startswith("key:") and target[4:] in by_key else target
            echo(f"    {edge_type} -> {name}", err=err)
    for warning in found.extraction.warnings:
        echo(f"warning: {warning}", err=True)
    linked = sum(1 for c in found.extraction.candidates if c.existing)
    echo(f"{len(new_ids)} new block(s), {linked} already in memory or an open proposal", err=err)
