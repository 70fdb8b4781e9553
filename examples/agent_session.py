"""An agent talks to mindmem over MCP: it recalls, proposes a decision, and a person approves it.

    python examples/agent_session.py [REPO]

Without REPO it makes a throwaway memory repo with a few approved blocks. It starts
`mm mcp` as a subprocess and drives it with the mcp SDK's stdio client, the way an
agent host does, then runs `mm approve` as the person would.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def mm(repo: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mindmem", "-C", str(repo), *args], input=stdin, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"mm {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def seed(repo: Path) -> None:
    mm(repo, "init", "--commit")
    fact = mm(repo, "new", "fact", "-t", "Billing events arrive at 2000 per second", "--set", "subject=PRJ-billing")
    mm(repo, "new", "project", "-t", "Billing")
    mm(
        repo,
        "new",
        "decision",
        "-t",
        "Store billing events in MySQL",
        "--set",
        "subject=PRJ-billing",
        "--edge",
        f"cites:{fact}",
        "-b",
        "MySQL was what the team knew in 2024.",
    )
    pid = mm(repo, "propose", "-r", "seed memory for the agent example")
    mm(repo, "approve", pid, "-r", "seeded by the example script")


def show(title: str, data: object) -> None:
    print(f"\n## {title}\n{json.dumps(data, indent=2)[:1500]}")


async def agent(repo: Path) -> str:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mindmem", "mcp", "--repo", str(repo), "--agent", "example"],
        env=dict(os.environ),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = [t.name for t in (await session.list_tools()).tools]
        show("tools", tools)
        found = await session.call_tool("recall", {"query": "where do we store billing events", "limit": 3})
        hits = found.structured_content
        show("agent: recall('where do we store billing events')", hits)
        decisions = [hit["id"] for hit in hits["results"] if hit["type"] == "decision"]
        old = decisions[0] if decisions else None
        edit = {
            "action": "add",
            "type": "decision",
            "title": "Store billing events in PostgreSQL",
            "fields": {"subject": "PRJ-billing"},
            "body": "At 2000 events per second we need partitioning; PostgreSQL gives it to us.",
        }
        if old:
            edit["supersedes"] = old
        proposed = await session.call_tool(
            "staged_change",
            {"phase": "propose", "rationale": "Load test showed MySQL falls behind", "edits": [edit]},
        )
        show("agent: staged_change(propose)", proposed.structured_content)
        pid = proposed.structured_content["proposal"]
        refused = await session.call_tool(
            "staged_change", {"phase": "approve", "rationale": "agent tries to approve", "proposal": pid}
        )
        show(
            "agent: staged_change(approve) is refused", {"is_error": refused.is_error, "text": refused.content[0].text}
        )
        return pid


def main() -> None:
    if len(sys.argv) > 1:
        repo = Path(sys.argv[1]).resolve()
        pid = asyncio.run(agent(repo))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp) / "memory"
            seed(repo)
            pid = asyncio.run(agent(repo))
            finish(repo, pid)
        return
    finish(repo, pid)


def finish(repo: Path, pid: str) -> None:
    print(f"\n## person: mm diff {pid}\n{mm(repo, 'diff', pid)}")
    print(f"\n## person: mm approve {pid}\n{mm(repo, 'approve', pid, '-r', 'Agrees with the load test')}")
    print(f"\n## mm list --type decision\n{mm(repo, 'list', '--type', 'decision')}")


if __name__ == "__main__":
    main()
