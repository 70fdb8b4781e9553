"""Recall and search index commands: `mm recall` and `mm index status|rebuild`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

from mindmem.cli.app import JsonOpt, app, echo, memory, print_json
from mindmem.cli.commands import Argument, Group, Option
from mindmem.cli.progress import counter
from mindmem.vocabulary import RECALL_MODES, choices

if TYPE_CHECKING:
    from mindmem.search.index import IndexStatus
    from mindmem.search.recall import Diagnoses, Hit, Search, Verification

index_app = Group(
    name="index",
    help=(
        "The search index behind `mm recall` (whoosh, in the git dir, never committed).\n\n"
        "It follows the governed branch by itself: recall catches it up before answering, "
        "re-indexing only the blocks that changed."
    ),
)
app.add_group(index_app)


@app.command()
def recall(
    query: Annotated[str, Argument(metavar="QUERY", help="A question, a claim (verify) or a problem (diagnose).")],
    mode: Annotated[str, Option("--mode", "-m", help=f"{choices(RECALL_MODES)}.")] = "similar",
    limit: Annotated[int, Option("--limit", "-k", help="At most this many results.")] = 10,
    type_: Annotated[Optional[str], Option("--type", help="Only this block type (decision, fact, …).")] = None,
    at: Annotated[
        Optional[str],
        Option("--at", help="Answer from memory as of a revision, or a date (YYYY-MM-DD or ISO time)."),
    ] = None,
    all_status: Annotated[bool, Option("--all-status", help="Include superseded and revoked blocks.")] = False,
    reformulate: Annotated[
        bool,
        Option("--reformulate", help="Let the configured model ($MM_MODEL or --model) split the question."),
    ] = False,
    model: Annotated[Optional[str], Option("--model", help="GGUF model for --reformulate.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer from committed memory (the governed branch), ranked, each result with the commit it came from.

    Modes: similar (default) ranks blocks for a question; intent guesses the kind
    of question (decision, task, who, when, incident, fact) and searches those
    types; verify says whether memory supports or contradicts a claim; diagnose
    finds incidents and tasks for a problem with their causes, fixes and tests;
    bundle prints an evidence bundle (JSON) of facts, relations, timeline and
    entities. Superseded and revoked blocks are hidden unless --all-status.
    A multi-part question is split by rules and the parts' rankings fused; with
    --reformulate a local model (see docs/models.md) writes the sub-queries instead.

    \b
    Example:
      mm recall "where do billing events live?"
      mm recall "who owns billing; also when did the outage start" --json
      mm recall "billing stores events in MySQL" --mode verify
      mm recall "invoices stopped" --mode diagnose
      mm recall "billing storage" --mode bundle --at 2026-06-01
    """
    from mindmem.search.recall import Bundle, Diagnoses, Verification
    from mindmem.search.recall import recall as run

    parts = None
    if reformulate:
        from mindmem.agents.model_router import ModelRouter

        parts = ModelRouter(model).queries(query)
    result = run(
        memory(),
        query,
        mode=mode,
        limit=limit,
        type=type_,
        at=at,
        all_status=all_status,
        parts=parts,
        progress=counter("indexing memory", "blocks", after=1.0),
    )
    if as_json or isinstance(result, Bundle):
        print_json(result.to_json())
    elif isinstance(result, Verification):
        _print_verification(result)
    elif isinstance(result, Diagnoses):
        _print_diagnoses(result)
    else:
        _print_search(result)


def _line(hit: Hit, score: bool = True) -> str:
    shown = f"{hit.score:>8.4g}  " if score else ""
    return f"{hit.id:<20} {hit.type:<9} {hit.status:<10} {shown}{hit.title}"


def _print_search(result: Search) -> None:
    echo(f"{result.mode} @ {result.commit[:12]}: {len(result.hits)} result(s)")
    if result.intent is not None:
        found = result.intent
        why = f" ({', '.join(found.matched)})" if found.matched else ""
        note = "; nothing of those types matched, so every type was searched" if found.widened else ""
        echo(f"intent: {found.label}{why} -> {', '.join(found.types)}{note}")
    if result.subqueries:
        labels = [f" [{i.label}]" for i in result.subintents] or [""] * len(result.subqueries)
        echo("sub-queries: " + " | ".join(q + label for q, label in zip(result.subqueries, labels, strict=True)))
    for rank, hit in enumerate(result.hits, 1):
        via = f"  (near {hit.via})" if hit.via else ""
        echo(f"{rank:>3}. {_line(hit)}{via}")


def _print_verification(result: Verification) -> None:
    echo(f"verdict: {result.verdict} (@ {result.commit[:12]})")
    for title, items in (("supporting", result.supporting), ("contradicting", result.contradicting)):
        echo(f"{title}:" + ("" if items else " none"))
        for item in items:
            echo(f"  {_line(item.hit, score=False)}")
            echo(f"      {item.kind}: {item.reason}")
    if result.related:
        echo("related (shares words, says nothing either way):")
        for item in result.related:
            echo(f"  {_line(item.hit, score=False)}")
            echo(f"      {item.reason}")


def _print_diagnoses(result: Diagnoses) -> None:
    echo(f"diagnose @ {result.commit[:12]}: {len(result.diagnoses)} match(es)")
    for found in result.diagnoses:
        echo(_line(found.match))
        for label, items in (
            ("cause", found.causes),
            ("fix", found.fixes),
            ("test", found.tests),
            ("rel", found.related),
        ):
            for item in items:
                edge = f"{item.source} -{item.edge}-> {item.target}"
                echo(f"  {label:<5} {_line(item.hit, score=False)}  [{edge}]")
        if not (found.causes or found.fixes or found.tests or found.related):
            echo("  (no causes, fixes or tests linked)")


@index_app.command()
def status(as_json: JsonOpt = False) -> None:
    """Which commit the index reflects, where the governed branch and HEAD are, and whether it is fresh.

    Changes nothing: a stale index is caught up by the next recall, or by the git hooks.

    \b
    Example:
      mm index status
      mm index status --json
    """
    from mindmem.search.index import status as index_status

    _print_status(index_status(memory()), as_json)


@index_app.command()
def rebuild(as_json: JsonOpt = False) -> None:
    """Build the index again from scratch, from the tip of the governed branch.

    Never needed for correctness (recall catches up by itself and rebuilds a
    missing, damaged or outdated index); useful after deleting it or to compact it.
    The count of blocks indexed goes to stderr.

    \b
    Example:
      mm index rebuild
    """
    from mindmem.search.index import rebuild as run

    _print_status(run(memory(), progress=counter("indexing memory", "blocks")), as_json)


def _print_status(result: IndexStatus, as_json: bool) -> None:
    if as_json:
        print_json(result.to_json())
        return

    def short(sha: str | None) -> str:
        return sha[:12] if sha else "(none)"

    echo(f"index:    {result.path}")
    echo(f"reflects: {short(result.indexed)} ({result.documents} blocks)")
    echo(f"{result.ref or 'target'}:{' ' * max(1, 9 - len(result.ref or 'target'))}{short(result.target)}")
    echo(f"HEAD:     {short(result.head)}")
    echo(f"legs:     {', '.join(result.legs)}")
    if result.rebuilt:
        echo(f"rebuilt:  {result.reason}")
    elif result.reindexed or result.removed:
        echo(f"updated:  {result.reindexed} re-indexed, {result.removed} removed")
    if result.fresh:
        echo("fresh:    yes")
    else:
        why = f" ({result.reason})" if result.reason and not result.rebuilt else ""
        echo(f"fresh:    no{why}; the next `mm recall` catches up")
    for path in result.skipped:
        echo(f"skipped:  {path} (does not parse; see `mm validate`)")
