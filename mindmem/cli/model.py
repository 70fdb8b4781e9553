"""Model commands: `mm model info PATH`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from mindmem.cli.app import JsonOpt, app, echo, print_json
from mindmem.cli.commands import Argument, Group

model_app = Group(
    name="model",
    help="Local GGUF models for extraction (docs/models.md).",
)
app.add_group(model_app)


@model_app.command()
def info(
    path: Annotated[Path, Argument(help="A .gguf model file.")],
    as_json: JsonOpt = False,
) -> None:
    """Show a GGUF model's architecture, size, quantisation, context length and chat template.

    Reads only the file's header. Warns (on stderr, exit 0) when the weights are below
    Q4_K_M, where small models' JSON degrades. A file that is not GGUF or is truncated
    is an error (exit 2).

    \b
    Example:
      mm model info ~/models/qwen3-4b-q4_k_m.gguf
      mm model info model.gguf --json
    """
    from mindmem.extract.gguf import read_info

    found = read_info(path)
    if as_json:
        print_json(found.to_json())
    else:
        types = ", ".join(f"{name} x{count}" for name, count in found.tensor_types.items())
        rows = [
            ("architecture", found.architecture),
            ("name", found.name or "-"),
            ("parameters", f"{_count(found.parameters)} ({found.parameters})"),
            ("quantisation", f"{found.file_type or 'not recorded'}; tensors: {types or 'none'}"),
            ("bits/weight", f"{found.bits_per_weight:.2f}"),
            ("context", f"{found.context_length} tokens" if found.context_length else "not recorded"),
            ("vocabulary", str(found.vocab_size or "not recorded")),
            ("layers", str(found.layers or "not recorded")),
            ("chat template", "yes" if found.chat_template else "no (extraction needs one)"),
            ("file size", f"{found.size / 2**20:.1f} MiB"),
        ]
        echo(f"{found.path}")
        for label, value in rows:
            echo(f"  {label:<14}{value}")
    if found.warning:
        echo(f"warning: {found.warning}", err=True)


def _count(n: int) -> str:
    """134515008 -> 134.5M."""
    value, units = float(n), ["", "K", "M", "G", "T"]
    while value >= 1000 and len(units) > 1:
        value /= 1000
        units.pop(0)
    return str(n) if value == n else f"{value:.1f}{units[0]}"
