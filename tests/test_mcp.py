"""The MCP server, started as a subprocess and driven with the SDK's real stdio client."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from conftest import fsck, git

import mindmem

pytest.importorskip("mcp")

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

TOOLS = {"recall", "staged_change", "graph", "memory_verify", "core", "kernels", "compiled_truth"}


@asynccontextmanager
async def session(repo: Path, agent: str = "tester"):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mindmem", "mcp", "--repo", str(repo), "--agent", agent],
        env=dict(os.environ),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        yield s


async def call(s: ClientSession, tool: str, **arguments):
    result = await s.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""
    if result.is_error:
        return None, text
    return (result.structured_content or json.loads(text)), None


@pytest.fixture
def memory_repo(repo, mm):
    """A repo with an entity, a fact, a decision that cites it, and an incident with its fix, all approved."""

    def new(*args):
        out = mm("new", *args, cwd=repo)
        assert out.code == 0, out.err
        return out.out.strip()

    ids = {"entity": new("project", "-t", "Billing")}
    ids["fact"] = new(
        "fact",
        "-t",
        "Billing events arrive at 2000 per second",
        "--set",
        "subject=PRJ-billing",
        "-b",
        "Measured in the October load test.",
    )
    ids["decision"] = new(
        "decision",
        "-t",
        "Store billing events in PostgreSQL",
        "--set",
        "subject=PRJ-billing",
        "--edge",
        f"cites:{ids['fact']}",
        "-b",
        "PostgreSQL handles the write rate with partitioning.",
    )
    ids["task"] = new("task", "-t", "Partition the events table", "--edge", f"depends_on:{ids['decision']}")
    ids["incident"] = new(
        "incident",
        "-t",
        "Billing export timed out",
        "--edge",
        f"derived_from:{ids['task']}",
        "-b",
        "The nightly export timed out because the events table was not partitioned.",
    )
    pid = json.loads(mm("propose", "--json", "-r", "seed memory for the MCP tests", cwd=repo).out)["id"]
    assert mm("approve", pid, cwd=repo).code == 0
    return repo, ids


def test_lists_exactly_the_seven_tools_with_tight_schemas(memory_repo):
    repo, _ = memory_repo

    async def run():
        async with session(repo) as s:
            return (await s.list_tools()).tools

    tools = {t.name: t for t in asyncio.run(run())}
    assert set(tools) == TOOLS
    assert all(t.description for t in tools.values())
    assert tools["recall"].input_schema["properties"]["mode"]["enum"] == [
        "similar",
        "verify",
        "intent",
        "diagnose",
        "bundle",
    ]
    assert tools["staged_change"].input_schema["properties"]["phase"]["enum"] == [
        "propose",
        "approve",
        "reject",
        "rollback",
    ]
    assert tools["graph"].input_schema["properties"]["action"]["enum"] == ["expand", "prefetch", "contradict"]
    assert tools["core"].input_schema["properties"]["action"]["enum"] == ["status", "get", "list"]


def test_every_dispatcher_and_mode_answers_with_ids_and_commits(memory_repo):
    repo, ids = memory_repo
    head = git(repo, "rev-parse", "main").strip()

    async def run():
        out = {}
        async with session(repo) as s:
            for mode in ("similar", "verify", "intent", "diagnose", "bundle"):
                out[mode] = await call(s, "recall", query="billing events PostgreSQL", mode=mode, limit=5)
            out["diagnose_timeout"] = await call(s, "recall", query="export timed out", mode="diagnose")
            out["expand"] = await call(s, "graph", action="expand", id=ids["decision"])
            out["prefetch"] = await call(s, "graph", action="prefetch", subject="PRJ-billing")
            out["contradict"] = await call(s, "graph", action="contradict")
            out["verify"] = await call(s, "memory_verify")
            out["status"] = await call(s, "core", action="status")
            out["get"] = await call(s, "core", action="get", id=ids["fact"])
            out["list"] = await call(s, "core", action="list", type="decision")
            out["kernels"] = await call(s, "kernels")
            out["truth"] = await call(s, "compiled_truth", subject="PRJ-billing")
        return out

    out = asyncio.run(run())
    for name, (_result, error) in out.items():
        assert error is None, f"{name}: {error}"
    assert ids["decision"] in json.dumps(out["similar"][0]) and head in json.dumps(out["similar"][0])
    for mode in ("verify", "intent", "diagnose", "bundle"):
        assert head in json.dumps(out[mode][0]), mode
    assert ids["task"] in json.dumps(out["diagnose_timeout"][0])
    assert {"facts", "relations", "timeline", "entities"} <= set(out["bundle"][0])
    neighbours = {n["id"] for n in out["expand"][0]["neighbours"]}
    assert {ids["fact"], ids["task"]} <= neighbours and out["expand"][0]["commit"] == head
    prefetch = out["prefetch"][0]
    assert {e["id"] for e in prefetch["truth"]} >= {ids["decision"], ids["fact"]}
    assert out["status"][0]["commit"] == head and out["status"][0]["blocks"] == 5
    assert out["get"][0]["block"]["id"] == ids["fact"] and out["get"][0]["commit"] == head
    assert [b["id"] for b in out["list"][0]["blocks"]] == [ids["decision"]]
    kernels = out["kernels"][0]
    assert kernels["governance"]["phases"] == ["propose"] and kernels["governance"]["agent"] == "tester"
    assert "verify" in out["verify"][0] and "check" in out["verify"][0]
    assert out["truth"][0]["subject"] == "PRJ-billing"


RETENTION = (
    "---\nid: D-20261125-00c0de\ntype: decision\ntitle: Retain billing events for 13 months\n"
    "status: active\ncreated: 2026-11-25T12:00:00Z\n---\nFinance needs a year plus a month.\n"
)


def test_agents_propose_and_people_approve(memory_repo, mm):
    repo, ids = memory_repo
    block = RETENTION

    async def run():
        async with session(repo, agent="planner") as s:
            proposed = await call(s, "staged_change", phase="propose", rationale="finance asked for it", blocks=[block])
            pid = proposed[0]["proposal"]
            refused = await call(s, "staged_change", phase="approve", rationale="looks right to me", proposal=pid)
            edited = await call(
                s,
                "staged_change",
                phase="propose",
                rationale="partitioning is under way",
                edits=[{"action": "edit", "id": ids["task"], "fields": {"status": "doing"}}],
            )
            return proposed, refused, edited

    proposed, refused, edited = asyncio.run(run())
    assert proposed[1] is None and edited[1] is None
    pid = proposed[0]["proposal"]
    assert proposed[0]["blocks"] == ["D-20261125-00c0de"] and isinstance(proposed[0]["findings"], list)
    assert refused[0] is None and "a person must run `mm approve`" in refused[1]
    trailers = git(repo, "log", "-1", "--format=%(trailers:key=Mm-Author,valueonly)", f"proposals/{pid}")
    assert trailers.strip() == "agent:planner"
    assert mm("approve", pid, cwd=repo).code == 0
    assert (repo / "memory/decisions/D-20261125-00c0de.md").is_file()


def test_granted_agents_may_approve(memory_repo, mm):
    repo, _ = memory_repo
    config = repo / ".mindmem/config.toml"
    config.write_text(config.read_text() + '\n[agents.release-bot]\nphases = ["propose", "approve"]\n')
    git(repo, "commit", "-q", "-am", "grant release-bot approvals")
    pid = json.loads(
        mm(
            "propose", "--json", "-r", "release notes go here", "--add", "note", "--set", "title=Release 1.2", cwd=repo
        ).out
    )["id"]

    async def run():
        async with session(repo, agent="release-bot") as s:
            return await call(s, "staged_change", phase="approve", rationale="release checklist passed", proposal=pid)

    result, error = asyncio.run(run())
    assert error is None and git(repo, "rev-parse", "main").strip() == result["commit"]


def test_bad_arguments_are_tool_errors_and_the_server_keeps_going(memory_repo):
    repo, _ = memory_repo

    async def run():
        async with session(repo) as s:
            errors = [
                await call(s, "recall", query="x", mode="telepathy"),
                await call(s, "recall", query="x", limit=0),
                await call(s, "core", action="get", id="D-20990101-abcdef"),
                await call(s, "graph", action="expand"),
                await call(s, "staged_change", phase="propose", rationale="short"),
                await call(s, "staged_change", phase="propose", rationale="a long enough reason", blocks=["nope"]),
                await call(s, "compiled_truth", subject="PRJ-billing", at="no-such-rev"),
            ]
            alive = await call(s, "core", action="status")
            return errors, alive

    errors, alive = asyncio.run(run())
    for result, error in errors:
        assert result is None and error
    assert "no block D-20990101-abcdef" in errors[2][1]
    assert "needs `id`" in errors[3][1]
    assert "unknown revision" in errors[6][1]
    assert alive[1] is None


def test_two_servers_proposing_at_once_lose_nothing(memory_repo):
    repo, _ = memory_repo

    async def agent(name: str) -> list[str]:
        pids = []
        async with session(repo, agent=name) as s:
            for n in range(4):
                result, error = await call(
                    s,
                    "staged_change",
                    phase="propose",
                    rationale=f"{name} learned thing {n}",
                    edits=[{"action": "add", "type": "note", "title": f"{name} note {n}"}],
                )
                assert error is None, error
                pids.append(result["proposal"])
        return pids

    async def run():
        return await asyncio.gather(agent("alpha"), agent("beta"))

    alpha, beta = asyncio.run(run())
    assert len(set(alpha + beta)) == 8
    for name, pids in (("alpha", alpha), ("beta", beta)):
        for pid in pids:
            author = git(repo, "log", "-1", "--format=%(trailers:key=Mm-Author,valueonly)", f"proposals/{pid}")
            assert author.strip() == f"agent:{name}"
            files = git(repo, "diff", "--name-only", "main", f"proposals/{pid}").split()
            assert len(files) == 1
    fsck(repo)


def test_print_config(memory_repo, mm):
    repo, _ = memory_repo
    result = mm("mcp", "--print-config", "--client", "claude", "--agent", "claude", cwd=repo)
    assert result.code == 0, result.err
    entry = json.loads(result.out)["mcpServers"]["mindmem"]
    assert entry["args"] == ["mcp", "--repo", str(repo), "--agent", "claude"]
    assert mm("mcp", "--print-config", "--client", "emacs", cwd=repo).code == 2
    assert mm("mcp", "--agent", "bad name!", cwd=repo).code == 2


def test_agents_read_their_own_open_proposals_apart_from_memory(memory_repo, mm):
    repo, ids = memory_repo
    block = RETENTION

    async def run():
        async with session(repo, agent="planner") as s:
            version = s.server_info
            proposed, _ = await call(
                s, "staged_change", phase="propose", rationale="finance asked for it", blocks=[block]
            )
            plain, _ = await call(s, "recall", query="retain billing events")
            mine, _ = await call(s, "recall", query="retain billing events", include_proposals=True)
            listed, _ = await call(s, "core", action="list", type="decision", include_proposals=True)
            got, _ = await call(s, "core", action="get", id="D-20261125-00c0de", include_proposals=True)
        async with session(repo, agent="someone-else") as other:
            theirs, _ = await call(other, "recall", query="retain billing events", include_proposals=True)
        return version, proposed["proposal"], plain, mine, listed, got, theirs

    version, pid, plain, mine, listed, got, theirs = asyncio.run(run())
    assert (version.name, version.version) == ("mindmem", mindmem.__version__)
    assert "unapproved" not in plain
    assert "D-20261125-00c0de" not in json.dumps(plain["results"]) and "D-20261125-00c0de" not in json.dumps(
        mine["results"]
    )  # never mixed into approved memory
    [item] = mine["unapproved"]["blocks"]
    assert item["id"] == "D-20261125-00c0de" and item["proposal"] == pid and item["approved"] is False
    assert "not yet approved" in mine["unapproved"]["label"]
    assert [b["id"] for b in listed["unapproved"]["blocks"]] == ["D-20261125-00c0de"]
    assert ids["decision"] in [b["id"] for b in listed["blocks"]]
    assert got["block"] is None and got["unapproved"]["blocks"][0]["block"]["title"].startswith("Retain billing")
    assert theirs["unapproved"]["blocks"] == []  # only the calling agent's own proposals
