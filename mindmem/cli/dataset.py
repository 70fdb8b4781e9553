"""`mm dataset`: generate training data for local models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

from mindmem.cli.app import app, echo
from mindmem.cli.commands import Group, Option
from mindmem.errors import BadInput

dataset_app = Group(name="dataset", help="Generate data to tune local models on this tool.")
app.add_group(dataset_app)


@dataset_app.command("dispatch")
def dispatch(
    count: Annotated[int, Option("--count", "-n", help="How many pairs.")] = 1000,
    seed: Annotated[int, Option("--seed", help="Same seed, same pairs.")] = 0,
    split: Annotated[str, Option(help="all, train or test (held-out phrasings).")] = "all",
    output: Annotated[Optional[Path], Option("--output", "-o", help="Write JSON lines here (default stdout).")] = None,
) -> None:
    """(prompt, expected call) pairs over the seven dispatchers and all their modes, as JSON lines.

    Each line: {"prompt", "call": {"tool", "arguments"}, "split", "template"}. The test
    split holds out whole phrasings, so a router scored on it meets wording it never saw.

    \b
    Example:
      mm dataset dispatch --count 5000 --seed 7 --split train -o train.jsonl
      mm dataset dispatch --count 500 --seed 7 --split test | head -3
    """
    from mindmem.agents.dataset import dispatch_pairs
    from mindmem.store.files import atomic_write

    if count < 1 or count > 1_000_000:
        raise BadInput("--count must be between 1 and 1000000")
    if split not in ("all", "train", "test"):
        raise BadInput("--split must be all, train or test")
    import json

    lines = [
        json.dumps(pair.to_json(), ensure_ascii=False)
        for pair in dispatch_pairs(count, seed)
        if split == "all" or pair.split == split
    ]
    text = "\n".join(lines) + "\n"
    if output is None:
        echo(text, nl=False)
    else:
        atomic_write(output, text.encode())
        echo(f"wrote {len(lines)} pairs to {output}", err=True)
