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
from mindmem.store.blocks import ENTITY_KINDS, LIFECYCLE, TASK_STATUSES, TYPES
from mindmem.vocabulary import CORE_ACTIONS, EDIT_ACTIONS, GRAPH_ACTIONS, PHASES, PROPOSAL_RE, RECALL_MODES

CLIENTS = ("claude", "cursor", "generic")
# The schemas agents see, derived from the vocabulary the library checks against.
RecallMode = Literal[RECALL_MODES]  # type: ignore[valid-type]
Phase = Literal[PHASES]  # type: ignore[valid-type]
GraphAction = Literal[GRAPH_ACTIONS]  # type: ignore[valid-type]
CoreAction = Literal[CORE_ACTIONS]  # type: ignore[valid-type]
EditAction = Literal[EDIT_ACTIONS]  # type: ignore[valid-type]
ListType = Literal[TYPES]  # type: ignore[valid-type]
NewType = Literal[tuple(t for t in TYPES if t != "entity") + tuple(ENTITY_KINDS)]  # type: ignore[valid-type]
Status = Literal[LIFECYCLE + TASK_STATUSES]  # type: ignore[valid-type]
ProposalId = Annotated[str, Field(pattern=PROPOSAL_RE.pattern, description="Proposal ID, P-YYYYMMDD-xxxxxx")]
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

    action: EditAction
    type: NewType | None = None
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
    tool = _registrar(server, ToolError)
    d = Dispatcher(repo, agent)
    _search_tools(tool, d)
    _memory_tools(tool, d)
    return server


Tool = Callable[[str], Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]]


def _registrar(server: Any, tool_error: type[Exception]) -> Tool:
    """A decorator that adds a function as a tool whose library errors reach the agent as tool errors."""

    def tool(description: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
        def register(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
            @functools.wraps(fn)
            def call(*args: Any, **kwargs: Any) -> dict[str, Any]:
                try:
                    return fn(*args, **kwargs)
                except MindmemError as exc:
                    raise tool_error(str(exc)) from None

            server.add_tool(call, name=fn.__name__, description=description, structured_output=True)
            return call

        return register

    return tool


def _search_tools(tool: Tool, d: Dispatcher) -> None:
    """recall and staged_change: the read and the write agents use most."""

    @tool(
        "Search memory. mode: similar (default), verify (is a claim supported?), intent, diagnose, bundle. "
        "include_proposals: also your own open proposals that match, apart under `unapproved`."
    )
    def recall(
        query: Annotated[str, Field(min_length=1, max_length=2000)],
        mode: RecallMode = "similar",
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
        phase: Phase,
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


def _memory_tools(tool: Tool, d: Dispatcher) -> None:
    """graph, memory_verify, core, kernels and compiled_truth."""

    @tool(
        "Walk the block graph. expand: neighbours of `id`; prefetch: what to load before working on "
        "`subject`; contradict: active blocks that cannot both hold, as `mm check` judges them."
    )
    def graph(
        action: GraphAction,
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
        action: CoreAction,
        id: BlockId | None = None,
        type: ListType | None = None,
        status: Status | None = None,
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
