"""Writing a block: its one canonical text."""

from __future__ import annotations

import yaml

from mindmem.store.format.dialect import Dumper
from mindmem.store.format.model import Block


def render(block: Block) -> str:
    """The one canonical text of a block."""
    lines = ["---\n"]
    for key, value in block.to_mapping().items():
        lines.append(
            yaml.dump(
                {key: value},
                Dumper=Dumper,
                sort_keys=False,
                # Short lists and mappings inline (`tags: [a, b]`), everything else in block style.
                default_flow_style=None if isinstance(value, (list, dict)) else False,
                allow_unicode=True,
                width=2**31 - 1,
            )
        )
    lines.append("---\n")
    if block.body:
        lines.append(block.body + "\n")
    return "".join(lines)
