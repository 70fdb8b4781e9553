"""A small hand-made memory for index and recall tests: blocks written as files, committed with the git binary."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from conftest import git

from mindmem.store import blocks as b

OLD_DECISION = "D-20260301-aaaaaa"
NEW_DECISION = "D-20261101-bbbbbb"
RUNS_ON = "F-20261102-cccccc"
QUEUE_LIMIT = "F-20261103-dddddd"
OUTAGE = "I-20261110-eeeeee"
FIX = "T-20261111-ffffff"
LOAD_TEST = "N-20261112-abcdef"
RETRY_NOTE = "N-20261113-123456"
CACHE_DECISION = "D-20261114-a1b2c3"
NO_CACHE = "D-20261115-d4e5f6"
STALE_DECISION = "D-20260401-0a0b0c"


def write_block(repo: Path, meta: dict[str, Any], body: str = "") -> str:
    """Write one canonical block file into the work tree; return its path relative to the repo."""
    meta = {"status": "active", "created": "2026-11-01T10:00:00Z", **meta}
    block = b.from_mapping(meta, body, "test")
    rel = f"memory/{b.block_relpath(block)}"
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(b.render(block), encoding="utf-8")
    return rel


def commit(repo: Path, message: str, when: str | None = None) -> str:
    """Commit everything under memory/ with the git binary (optionally dated); return the new sha."""
    git(repo, "add", "-A", "memory")
    env = dict(os.environ)
    if when:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when
    done = subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return git(repo, "rev-parse", "HEAD").strip()


def build_world(repo: Path) -> str:
    """The billing story: a superseded storage decision, facts, an outage with its fix and test,
    a contradicts edge, and a decision superseded by an edge whose status was never updated."""
    write_block(repo, {"id": "PRJ-billing", "type": "entity", "title": "Billing"}, "The billing service.")
    write_block(repo, {"id": "PER-alice", "type": "entity", "title": "Alice Example"}, "Owns the billing service.")
    write_block(
        repo,
        {
            "id": OLD_DECISION,
            "type": "decision",
            "title": "Store billing events in MySQL",
            "status": "superseded",
            "created": "2026-03-01T09:00:00Z",
            "subject": "PRJ-billing",
            "constraint": {"axis": "storage.engine", "scope": "PRJ-billing", "modality": "must", "object": "mysql"},
        },
        "We keep MySQL for the billing event store for now.",
    )
    write_block(
        repo,
        {
            "id": NEW_DECISION,
            "type": "decision",
            "title": "Store billing events in PostgreSQL",
            "subject": "PRJ-billing",
            "author": "alice",
            "constraint": {
                "axis": "storage.engine",
                "scope": "PRJ-billing",
                "modality": "must",
                "object": "postgresql",
            },
            "edges": {"supersedes": [OLD_DECISION], "relates_to": ["PER-alice"]},
            "valid_from": "2026-11-01",
            "expires": "2027-05-01",
        },
        "## Context\n\nMySQL lost events under load. Alice chose PostgreSQL.\n\n"
        "## Decision\n\nUse PostgreSQL for the event store.",
    )
    write_block(
        repo,
        {
            "id": RUNS_ON,
            "type": "fact",
            "title": "Billing runs on Kubernetes",
            "subject": "PRJ-billing",
            "predicate": "runs_on",
            "object": "kubernetes",
            "valid_from": "2026-10-01",
        },
    )
    write_block(
        repo,
        {"id": QUEUE_LIMIT, "type": "fact", "title": "Event queue limit is 10k messages", "subject": "PRJ-billing"},
        "The billing event queue holds at most 10000 messages.",
    )
    write_block(
        repo,
        {
            "id": OUTAGE,
            "type": "incident",
            "title": "Billing outage: invoices stopped",
            "created": "2026-11-10T03:00:00Z",
            "edges": {"depends_on": [QUEUE_LIMIT]},
        },
        "Invoices stopped for two hours; the event queue overflowed.",
    )
    write_block(
        repo,
        {
            "id": FIX,
            "type": "task",
            "title": "Raise the event queue limit",
            "status": "done",
            "created": "2026-11-11T08:00:00Z",
            "due": "2026-11-20",
            "edges": {"derived_from": [OUTAGE], "tested_by": [LOAD_TEST]},
        },
        "Raise to 100k and alert at 80%.",
    )
    write_block(
        repo,
        {"id": LOAD_TEST, "type": "note", "title": "Load test of the event queue at 100k"},
        "Passed at 120k messages.",
    )
    write_block(
        repo,
        {"id": RETRY_NOTE, "type": "note", "title": "Zebra crossing", "edges": {"relates_to": [NEW_DECISION]}},
        "Unrelated words: giraffe, lighthouse.",
    )
    write_block(
        repo,
        {"id": CACHE_DECISION, "type": "decision", "title": "Cache invoices in Redis"},
        "Invoices are cached in Redis for an hour.",
    )
    write_block(
        repo,
        {
            "id": NO_CACHE,
            "type": "decision",
            "title": "Invoices must always be computed fresh",
            "edges": {"contradicts": [CACHE_DECISION]},
        },
        "Never serve cached invoices.",
    )
    write_block(
        repo,
        {
            "id": STALE_DECISION,
            "type": "decision",
            "title": "Deploy billing with Ansible",
            "created": "2026-04-01T00:00:00Z",
        },
        "Billing deploys run Ansible playbooks.",
    )
    write_block(
        repo,
        {
            "id": "D-20261116-f0f0f0",
            "type": "decision",
            "title": "Deploy billing with Argo CD",
            "edges": {"supersedes": [STALE_DECISION]},
        },
        "Billing deploys go through Argo CD.",
    )
    return commit(repo, "billing memory")
