"""`mm ask`: ask memory a question in plain words."""

from __future__ import annotations

from typing import Annotated, Optional

from mindmem.cli.app import JsonOpt, app, echo, print_json, state
from mindmem.cli.commands import Argument, Option


@app.command()
def ask(
    question: Annotated[str, Argument(help="A question or request in plain words.")],
    show_result: Annotated[bool, Option("--full", help="Also print the whole result of the call.")] = False,
    model: Annotated[
        Optional[str],
        Option(
            "--model",
            help="GGUF model that routes the questions no rule matches, and answers. "
            "A model from $MM_MODEL or config only answers (docs/benchmarks.md).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask memory in plain words: one dispatcher call (the same seven as `mm mcp`), answered with cited IDs.

    A rule-based router picks the call (recall and its modes, graph, core, compiled
    truth, kernels, memory_verify, or a proposal) and the evidence is printed. With
    --model, the model emits the call as grammar-held JSON for the questions no rule
    matches (a search for similar blocks when its call is not valid); with any model
    (--model, $MM_MODEL or the user config) the model answers from the evidence,
    citing block IDs.
    Requests to approve, reject or roll back are refused: a person runs those commands.

    \b
    Example:
      mm ask "why did the billing export time out?"      # recall, mode diagnose
      mm ask "is it true that billing events live in MySQL?"   # recall, mode verify
      mm ask "what do we know about PRJ-billing?"         # compiled_truth
      mm ask "list open tasks" --json
    """
    from mindmem.agents.ask import ask as run

    answer = run(str(state["repo"]) if state["repo"] else None, question, model=model)
    if as_json:
        print_json(answer.to_json())
        return
    args = ", ".join(f"{k}={v!r}" for k, v in answer.call.arguments.items() if k != "edits")
    echo(f"call: {answer.call.tool}({args})")
    if answer.commit:
        echo(f"from commit {answer.commit[:12]}")
    if answer.text:
        echo(f"answer: {answer.text}")
    verdict = answer.result.get("verdict")
    if verdict:
        echo(f"verdict: {verdict}")
    if answer.result.get("proposal"):
        echo(f"proposed {answer.result['proposal']}: {answer.result.get('next', '')}")
    for item in answer.cited:
        retired = f"  [{item['status']}]" if item.get("status") in ("superseded", "revoked") else ""
        echo(f"  {item['id']:<20} {item['type']:<9} {item['title']}{retired}")
    if not answer.cited and not answer.result.get("proposal"):
        echo("  (no blocks cited)")
    if show_result:
        import json

        echo(json.dumps(answer.result, indent=2, ensure_ascii=False))
