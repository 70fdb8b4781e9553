"""The words the library, the CLI and the MCP schemas share, written once.

The CLI's help and the MCP server's `Literal` schemas are derived from these tuples, so a mode
or a phase added here reaches every surface. Block types, statuses and ID patterns belong to the
block format and live in `mindmem.store.blocks`.
"""

from __future__ import annotations

import re

GOVERNANCE_MODES = ("detect_only", "propose", "enforce")  # from least to most strict
RECALL_MODES = ("similar", "verify", "intent", "diagnose", "bundle")

# The seven dispatchers agents call, and the choices each takes.
DISPATCHERS = ("recall", "staged_change", "graph", "memory_verify", "core", "kernels", "compiled_truth")
PHASES = ("propose", "approve", "reject", "rollback")
DEFAULT_PHASES = ("propose",)
GRAPH_ACTIONS = ("expand", "prefetch", "contradict")
CORE_ACTIONS = ("status", "get", "list")
EDIT_ACTIONS = ("add", "edit", "revoke")

PROPOSAL_ID = r"P-\d{8}-[0-9a-f]{6}"
PROPOSAL_RE = re.compile(rf"^{PROPOSAL_ID}$")
PROPOSAL_IN_TEXT_RE = re.compile(rf"\b{PROPOSAL_ID}\b")


def choices(words: tuple[str, ...]) -> str:
    """`a, b or c`, for help text and error messages."""
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else "".join(words)
