"""`mm mcp`: the stdio MCP server. A thin shim: tight schemas in, `Dispatcher` calls, JSON out.

The mcp SDK is imported only here, and this module only by `mm mcp`, because
importing the SDK costs most of a second.
"""

from __future__ import annotations

import functools
import json
import shutil
import sys
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mindmem import __version__
from mindmem.agents.dispatch import Dispatcher
from mindmem.errors import BadInput, MindmemError

CLIENTS = ("claude", "cursor", "generic")
ProposalId = Annotated[str, Field(pattern=r"^P-\d{8}-[0-9a-f]{6}$", description="Proposal ID, P-YYYYMMDD-xxxxxx")]
At = Annotated[
    str | None,
    Field(description="Answer from memory as it was at this revision (sha, branch, tag) or date YYYY-MM-DD"),
]
BlockId = Annotated[str, Field(max_length=80, description="Block ID such as D-20261125-7f3a9c or PER-alice")]
IncludeProposals = Annotated[
    bool,
    Field(description="Also return your own open proposals (not yet approved), apart under `unapproved`"),
]


class EditSpec(BaseModel):
    """One inline edit for staged_change(phase=propose)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["add", "edit", "revoke"]
    type: Literal["decision", "fact", "task", "incident", "note", "person", "project", "tool", "org"] | None = None
    id: BlockId | None = None
    title: Annotated[str | None, Field(max_length=200)] = None
    body: str | None = None
    fields: dict[str, Any] | None = None
    edges: list[Annotated[list[str], Field(min_length=2, max_length=2, description="[edge_type, target_id]")]] = []
    supersedes: BlockId | None = None


def build_server(repo: str | None, agent: str) -> Any:
    """The MCPServer with exactly the seven dispatchers, for one repo and one agent."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    d = Dispatcher(repo, agent)
    server = MCPServer(
        name="mindmem",
        version=__version__,
        log_level="WARNING",
        instructions=(
            "Git-native project memory. Read with recall, core, graph and compiled_truth; "
            "write with staged_change(phase=propose): a person approves proposals. "
            "Every answer names block IDs and the commit it came from."
        ),
    )

    def tool(description: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
        def register(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
            @functools.wraps(fn)
            def call(*args: Any, **kwargs: Any) -> dict[str, Any]:
                try:
                    return fn(*args, **kwargs)
                except MindmemError as exc:
                    raise ToolError(str(exc)) from None

            server.add_tool(call, name=fn.__name__, description=description, structured_output=True)
            return call

        return register

    @tool(
        "Search memory. mode: similar (default), verify (is a claim supported?), intent, diagnose, bundle. "
        "include_proposals: also your own open proposals that match, apart under `unapproved`."
    )
    def recall(
        query: Annotated[str, Field(min_length=1, max_length=2000)],
        mode: Literal["similar", "verify", "intent", "diagnose", "bundle"] = "similar",
        limit: Annotated[int, Field(ge=1, le=50)] = 10,
        at: At = None,
        include_proposals: IncludeProposals = False,
    ) -> dict[str, Any]:
        return d.recall(query, mode=mode, limit=limit, at=at, include_proposals=include_proposals)

    @tool(
        "Change memory through governance. propose: `blocks` (Markdown block files) or `edits`, with a "
        "rationale; with `proposal`, revise that open proposal instead of opening another; returns the "
        "proposal ID and its check findings. approve/reject/rollback need a grant committed on the governed branch."
    )
    def staged_change(
        phase: Literal["propose", "approve", "reject", "rollback"],
        rationale: Annotated[str, Field(min_length=8, max_length=4000, description="Why; kept in git forever")],
        blocks: Annotated[list[str], Field(max_length=100)] | None = None,
        edits: Annotated[list[EditSpec], Field(max_length=100)] | None = None,
        proposal: ProposalId | None = None,
        target: Annotated[str | None, Field(description="rollback: P-…, a block ID or a commit sha")] = None,
        title: Annotated[str | None, Field(max_length=200)] = None,
    ) -> dict[str, Any]:
        return d.staged_change(
            phase,
            rationale,
            blocks=blocks or (),
            edits=[e.model_dump(exclude_none=True) for e in edits or ()],
            proposal=proposal,
            target=target,
            title=title,
        )

    @tool(
        "Walk the block graph. expand: neighbours of `id`; prefetch: what to load before working on "
        "`subject`; contradict: active blocks that cannot both hold, as `mm check` judges them."
    )
    def graph(
        action: Literal["expand", "prefetch", "contradict"],
        id: BlockId | None = None,
        subject: Annotated[str | None, Field(max_length=200)] = None,
        depth: Annotated[int, Field(ge=1, le=5)] = 1,
        at: At = None,
    ) -> dict[str, Any]:
        return d.graph(action, id=id, subject=subject, depth=depth, at=at)

    @tool("Is memory sound? What `mm verify` (governance chain) and `mm check --all` (findings) report.")
    def memory_verify() -> dict[str, Any]:
        return d.memory_verify()

    @tool(
        "Memory basics. status: repo summary; get: one block by `id`; list: blocks filtered by type/status/tag. "
        "include_proposals: also your own open proposals, apart under `unapproved`."
    )
    def core(
        action: Literal["status", "get", "list"],
        id: BlockId | None = None,
        type: Literal["decision", "fact", "task", "incident", "note", "entity"] | None = None,
        status: Literal["active", "superseded", "revoked", "todo", "doing", "blocked", "done", "canceled"]
        | None = None,
        tag: Annotated[str | None, Field(max_length=100)] = None,
        at: At = None,
        include_proposals: IncludeProposals = False,
    ) -> dict[str, Any]:
        return d.core(action, id=id, type=type, status=status, tag=tag, at=at, include_proposals=include_proposals)

    @tool("The recall and governance settings in force, and the phases this agent may use.")
    def kernels() -> dict[str, Any]:
        return d.kernels()

    @tool("The current truth about a subject or entity: active blocks after supersedes, newest first.")
    def compiled_truth(subject: Annotated[str, Field(min_length=1, max_length=200)], at: At = None) -> dict[str, Any]:
        return d.compiled_truth(subject, at=at)

    return server


def serve(repo: str | None, agent: str) -> None:
    build_server(repo, agent).run("stdio")


def client_config(client: str, repo: str, agent: str) -> str:
    """The snippet that registers this server with an MCP client."""
    if client not in CLIENTS:
        raise BadInput(f"unknown client '{client}'; expected one of {', '.join(CLIENTS)}")
    command = shutil.which("mm") or sys.argv[0]
    entry = {"command": command, "args": ["mcp", "--repo", repo, "--agent", agent]}
    if client == "claude":
        return json.dumps({"mcpServers": {"mindmem": entry}}, indent=2)
    if client == "cursor":
        return json.dumps({"mcpServers": {"mindmem": {"type": "stdio", **entry}}}, indent=2)
    return json.dumps({"name": "mindmem", "transport": "stdio", **entry}, indent=2)
