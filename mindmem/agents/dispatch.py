"""The seven dispatchers agents call (over MCP, or through `mm ask`): one library function each.

Every result is plain JSON data that names block IDs and the commit sha it was read
from. Reads answer from the governed branch (committed, approved memory) unless `at`
names another revision. Writes are proposals; approve, reject and rollback need the
agent to be granted that phase in `.mindmem/config.toml`:

    [agents.release-bot]
    phases = ["propose", "approve"]
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from mindmem.agents.edits import Edit, inline_edit
from mindmem.errors import BadInput, BlockError, MindmemError, StateError
from mindmem.store.blocks import parse as parse_block
from mindmem.store.listing import listing
from mindmem.store.memory import Memory
from mindmem.store.snapshot import Snapshot
from mindmem.vocabulary import (
    CORE_ACTIONS,
    DEFAULT_PHASES,
    DISPATCHERS,
    GRAPH_ACTIONS,
    PHASES,
    RECALL_MODES,
)

MAX_LIMIT = 50


class AccessDenied(StateError):
    """The agent is not granted this phase."""


class Dispatcher:
    """The dispatchers for one repo and one agent; caches snapshots and graphs per commit."""

    def __init__(self, repo: str | None, agent: str, env: Mapping[str, str] | None = None) -> None:
        self.repo = repo
        self.agent = agent
        self.env = env
        self._snapshots: OrderedDict[str, tuple[Snapshot, Any]] = OrderedDict()
        self.memory()  # fail at start, not at the first call, when the repo is not a memory repo

    def memory(self) -> Memory:
        # Fresh each call: settings and refs may change while a server runs.
        return Memory(self.repo, env=self.env)

    # -- reads -------------------------------------------------------------------

    def recall(
        self,
        query: str,
        mode: str = "similar",
        limit: int = 10,
        at: str | None = None,
        include_proposals: bool = False,
    ) -> dict[str, Any]:
        """Recall from approved memory; with `include_proposals`, this agent's open proposals that
        share a word with the query come back apart, under `unapproved`."""
        from mindmem.search import recall

        memory = self.memory()
        out = recall.recall(memory, query, mode=mode, limit=_limit(limit), at=at).to_json()
        if include_proposals:
            from mindmem.agents import unapproved

            out["unapproved"] = unapproved.section(unapproved.matching(self._own(memory), query)[:limit])
        return out

    def _own(self, memory: Memory) -> list[Any]:
        from mindmem.agents import unapproved

        return unapproved.proposed_by(memory, f"agent:{self.agent}")

    def graph(
        self,
        action: str,
        id: str | None = None,
        subject: str | None = None,
        depth: int = 1,
        at: str | None = None,
    ) -> dict[str, Any]:
        from mindmem.search import graph
        from mindmem.search.conflicts import contradictions

        _one_of("action", action, GRAPH_ACTIONS)
        memory = self.memory()
        snap, g = self._graph(memory, at)
        # The one contradiction judgement: the pairs `mm check` reports, with the same settings.
        checks = memory.settings.sections.get("checks", {})
        if action == "contradict":
            return {"commit": snap.commit, **contradictions(g, checks).to_json()}
        if not 1 <= depth <= 5:
            raise BadInput("depth must be between 1 and 5")
        if action == "expand":
            if not id:
                raise BadInput("graph expand needs `id`")
            graph.node(g, id)
            hops = graph.expand(g, id, depth=depth)
            return {"commit": snap.commit, "id": id, "neighbours": [h.to_json() for h in hops]}
        if not subject:
            raise BadInput("graph prefetch needs `subject` (an entity ID or subject)")
        truth = graph.compiled_truth(snap, subject)
        core = [e.block.id for e in truth.entries]
        seen = set(core)
        neighbours = []
        for block_id in core:
            for hop in graph.expand(g, block_id, depth=depth):
                if hop.node.id not in seen and not hop.node.dangling:
                    seen.add(hop.node.id)
                    neighbours.append(hop.to_json())
        return {
            "commit": snap.commit,
            "subject": subject,
            "truth": truth.to_json()["entries"],
            "neighbours": neighbours,
            "contradictions": [list(p) for p in contradictions(g, checks).pairs if seen & set(p)],
        }

    def compiled_truth(self, subject: str, at: str | None = None) -> dict[str, Any]:
        from mindmem.search import graph

        if not subject.strip():
            raise BadInput("subject is empty")
        snap, _ = self._graph(self.memory(), at)
        return graph.compiled_truth(snap, subject).to_json()

    def core(
        self,
        action: str,
        id: str | None = None,
        type: str | None = None,
        status: str | None = None,
        tag: str | None = None,
        at: str | None = None,
        include_proposals: bool = False,
    ) -> dict[str, Any]:
        _one_of("action", action, CORE_ACTIONS)
        memory = self.memory()
        out = self._core(memory, action, id, type, status, tag, at)
        if include_proposals:
            from mindmem.agents import unapproved

            own = self._own(memory)
            if action == "get":
                own = [item for item in own if item.block_id == id]
            elif action == "list":
                own = [item for item in own if _listed(item.block, type, status, tag)]
            out["unapproved"] = unapproved.section(own, full=action == "get")
        return out

    def _core(
        self,
        memory: Memory,
        action: str,
        id: str | None,
        type: str | None,
        status: str | None,
        tag: str | None,
        at: str | None,
    ) -> dict[str, Any]:
        if action == "status":
            return self._status(memory)
        snap, _ = self._graph(memory, at)
        if action == "get":
            if not id:
                raise BadInput("core get needs `id`")
            if id not in snap.blocks and any(item.block_id == id for item in self._own(memory)):
                return {"commit": snap.commit, "path": None, "block": None}  # only proposed so far
            block, _ = memory.lookup(id, snap.commit) if id not in snap.blocks else (snap.blocks[id], snap)
            return {"commit": snap.commit, "path": snap.paths[block.id], "block": block.to_json()}
        found = listing(memory, type=type, status=status, tag=tag, at=snap.commit)
        return {
            "commit": snap.commit,
            "count": len(found),
            "blocks": [{"id": row.id, "type": row.type, "status": row.status, "title": row.title} for row in found],
        }

    def kernels(self) -> dict[str, Any]:
        from mindmem.search import ranking, recall

        memory = self.memory()
        s = memory.settings
        return {
            "governance": {
                "mode": s.mode,
                "governed_branch": s.governed_branch,
                "root": s.root,
                "governed_since": s.governed_since,
                "agent": self.agent,
                "phases": list(self.phases(memory)),
            },
            "recall": {
                "modes": list(RECALL_MODES),
                "hidden_statuses": list(recall.HIDDEN_STATUSES),
                "ranking": ranking.description(),
                "candidate_pool": recall.POOL,
                "neighbour_boost": {"strong_hits": recall.STRONG_HITS, "weight": recall.NEIGHBOUR_WEIGHT},
                "fusion": {"method": "reciprocal rank", "k": recall.RRF_K},
                "diagnose_edges": list(recall.DIAGNOSE_EDGES),
                "answers_from": s.governed_branch,
            },
        }

    def memory_verify(self) -> dict[str, Any]:
        from mindmem.checks import context_for, run_checks
        from mindmem.governance.verify import verify

        memory = self.memory()
        report = verify(memory)
        findings = run_checks(context_for(memory, full=True))
        return {
            "commit": memory.git.branch_tip(memory.settings.governed_branch),
            "verify": report.to_json(),
            "check": {
                "critical": sum(f.severity == "critical" for f in findings),
                "findings": [f.to_json() for f in findings],
            },
        }

    # -- writes ---------------------------------------------------------------------

    def staged_change(
        self,
        phase: str,
        rationale: str,
        blocks: Sequence[str] = (),
        edits: Sequence[Edit | Mapping[str, Any]] = (),
        proposal: str | None = None,
        target: str | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        from mindmem import governance as gov

        _one_of("phase", phase, PHASES)
        memory = self.memory()
        self.require(memory, phase)
        if phase == "propose":
            return self._propose(memory, rationale, blocks, edits, title, proposal)
        if phase in ("approve", "reject"):
            if not proposal:
                raise BadInput(f"{phase} needs `proposal` (P-…)")
            if phase == "approve":
                # Recorded in the signed approval: a person's key signs, but an agent decided.
                return gov.approve(memory, proposal, rationale=rationale, via=f"agent:{self.agent}").to_json()
            sha = gov.reject(memory, proposal, rationale=rationale)
            return {"proposal": proposal, "commit": sha, "branch": f"{gov.REJECTED}{proposal}"}
        if not target:
            raise BadInput("rollback needs `target` (P-…, a block ID or a commit sha)")
        plan = gov.plan_rollback(memory, target)
        sha = gov.rollback(memory, plan, rationale=rationale)
        return {**plan.to_json(), "commit": sha}

    def _propose(
        self,
        memory: Memory,
        rationale: str,
        blocks: Sequence[str],
        edits: Sequence[Edit | Mapping[str, Any]],
        title: str | None,
        amend: str | None,
    ) -> dict[str, Any]:
        from mindmem import governance as gov
        from mindmem.checks import context_for, run_checks
        from mindmem.store import changes as ch

        if bool(blocks) == bool(edits):
            raise BadInput("propose takes `blocks` (Markdown block files) or `edits`, one of the two")
        author = f"agent:{self.agent}"
        if blocks:
            changes = ch.from_texts([(f"blocks[{n}]", text) for n, text in enumerate(blocks)], memory.root)
        else:
            changes = {}
            for edit in edits:
                request = inline_edit(edit if isinstance(edit, Edit) else Edit.from_json(edit))
                changes.update(gov.inline_changes(memory, request, author=author))
        from mindmem.governance.trailers import check_rationale

        check_rationale(rationale)  # a retry is held to the same rules as a first call
        retried = None if amend else _open_twin(memory, changes, author)
        proposal = retried or gov.propose(memory, changes, rationale=rationale, title=title, author=author, amend=amend)
        merge, own = gov.checks_for(memory, proposal.id)
        findings = run_checks(context_for(memory, proposal=merge)) + own
        return {
            **({"retried": True} if retried else {}),
            "proposal": proposal.id,
            "commit": proposal.commit,
            "blocks": list(proposal.blocks),
            "findings": [f.to_json() for f in findings],
            "next": f"a person reviews it (mm diff {proposal.id}) and runs mm approve {proposal.id}",
        }

    # -- access control -----------------------------------------------------------------

    def phases(self, memory: Memory) -> tuple[str, ...]:
        agents = memory.settings.sections.get("agents", {})
        granted = agents.get(self.agent, agents.get("default", {})).get("phases", list(DEFAULT_PHASES))
        if not isinstance(granted, list) or not all(p in PHASES for p in granted):
            raise BadInput(f"[agents.{self.agent}] phases must be a list drawn from {', '.join(PHASES)}")
        return tuple(granted)

    def require(self, memory: Memory, phase: str) -> None:
        if phase not in self.phases(memory):
            hint = f"a person must run `mm {phase}`" if phase != "propose" else "ask a person to grant it"
            raise AccessDenied(
                f"agent '{self.agent}' may not {phase}; {hint} "
                f"(or grant it in .mindmem/config.toml under [agents.{self.agent}] phases)"
            )

    # -- helpers --------------------------------------------------------------------------

    def _graph(self, memory: Memory, at: str | None) -> tuple[Snapshot, Any]:
        from mindmem.search import graph

        sha = memory.git.resolve(at or memory.settings.governed_branch)
        if sha not in self._snapshots:
            snap = memory.snapshot(sha)
            self._snapshots[sha] = (snap, graph.build_graph(snap))
            while len(self._snapshots) > 4:
                self._snapshots.popitem(last=False)
        self._snapshots.move_to_end(sha)
        return self._snapshots[sha]

    def _status(self, memory: Memory) -> dict[str, Any]:
        from mindmem import governance as gov

        s = memory.settings
        tip = memory.git.branch_tip(s.governed_branch)
        snap, _ = self._graph(memory, None) if tip else (Snapshot(None), None)
        by_type: dict[str, int] = {}
        for block in snap.blocks.values():
            by_type[block.type] = by_type.get(block.type, 0) + 1
        return {
            "commit": tip,
            "governed_branch": s.governed_branch,
            "mode": s.mode,
            "blocks": len(snap),
            "by_type": by_type,
            "open_proposals": [p.id for p in gov.list_proposals(memory)],
            "agent": self.agent,
        }


def _listed(block: Any, type: str | None, status: str | None, tag: str | None) -> bool:
    """Whether a proposed block passes `core list`'s filters (a removed one, None, does not)."""
    if block is None:
        return False
    return (
        (type is None or block.type == type)
        and (status is None or block.status == status)
        and (tag is None or tag in block.tags)
    )


def _one_of(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise BadInput(f"{name} '{value}' is not one of {', '.join(allowed)}")


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


__all__ = ["DISPATCHERS", "AccessDenied", "Dispatcher", "Edit", "MindmemError"]


def _open_twin(memory: Memory, changes: Mapping[str, bytes | None], author: str) -> Any:
    """The open proposal by the same author with the same content, if any: a propose retried (say after
    a lost reply) returns it instead of making a second one. Blocks compare by type, title and body,
    since an added block draws a new ID and time on each call."""
    from mindmem import governance as gov

    def content(files: Mapping[str, bytes | None]) -> list[tuple[str, ...]]:
        out = []
        for path, data in files.items():
            try:
                block = parse_block(data, path) if data is not None else None
            except BlockError:
                block = None
            out.append((block.type, block.title, block.body.strip()) if block else (path, repr(data)))
        return sorted(out)

    wanted = content(changes)
    for proposal in gov.list_proposals(memory):
        if proposal.author == author and proposal.state == "open":
            made = gov.proposal_changes(memory, proposal)
            if content({path: new for path, (_old, new) in made.items()}) == wanted:
                return proposal
    return None
