"""`mm mcp`: serve memory to agents over MCP (stdio)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

from mindmem.cli.app import app, echo, state
from mindmem.cli.commands import Option
from mindmem.errors import BadInput


@app.command()
def mcp(
    repo: Annotated[Optional[Path], Option("--repo", help="The memory repo (default: -C, $MM_REPO or here).")] = None,
    agent: Annotated[str, Option("--agent", help="Agent name: its proposals carry Mm-Author: agent:NAME.")] = "agent",
    print_config: Annotated[
        bool, Option("--print-config", help="Print the snippet that registers this server, then exit.")
    ] = False,
    client: Annotated[str, Option("--client", help="For --print-config: claude, cursor or generic.")] = "generic",
) -> None:
    """Serve this memory to agents over MCP on stdio: seven dispatchers, agents propose, people approve.

    Tools: recall, staged_change, graph, memory_verify, core, kernels, compiled_truth.
    What each agent may do is set in .mindmem/config.toml ([agents.NAME] phases);
    by default agents read and propose, and approve/reject/rollback are refused.

    \b
    Example:
      mm mcp --agent claude                          # what the client runs
      mm mcp --print-config --client claude --agent claude
    """
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", agent):
        raise BadInput(f"--agent '{agent}' must be letters, digits, '.', '_' or '-'")
    from mindmem.agents import mcp as server
    from mindmem.store.memory import Memory

    memory = Memory(repo or state["repo"])
    if print_config:
        echo(server.client_config(client, str(memory.workdir), agent))
        return
    server.serve(str(memory.workdir), agent)
