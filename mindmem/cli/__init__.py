"""The `mm` command line: parse arguments, call the library, print. Nothing else.

Each module registers the commands of one area on the root group (`app.py`).
"""

from mindmem.cli import (  # noqa: F401  (registers commands)
    ask,
    check,
    ci,
    core,
    dataset,
    extract,
    governance,
    graph,
    hooks,
    imports,
    mcp,
    model,
    recall,
    signing,
    status,
    sync,
)
from mindmem.cli.app import app, main

__all__ = ["app", "main"]
