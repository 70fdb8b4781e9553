"""mm review: the review packet for a proposal or a range, in text, Markdown and JSON."""

from __future__ import annotations

import json

from check_helpers import put, rule
from conftest import git

OLD = "D-20260101-aaaaaa"
NEW = "D-20260201-bbbbbb"
NOTE = "N-20260101-000001"


def seeded(repo):
    put(repo, OLD, "Use Postgres", constraint=rule("storage.engine", "PRJ-billing", "must", "postgresql"))
    put(repo, NOTE, "Billing schema notes", edges={"cites": [OLD]})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "memory")


def test_proposal_packet_in_all_formats(repo, mm):
    seeded(repo)
    put(
        repo,
        NEW,
        "No Postgres",
        created="2026-02-01T00:00:00Z",
        constraint=rule("storage.engine", "PRJ-billing", "must_not", "postgresql"),
    )
    put(repo, OLD, "Use Postgres for now", constraint=rule("storage.engine", "PRJ-billing", "must", "postgresql"))
    pid = json.loads(mm("propose", "-r", "Postgres costs too much", "--json", cwd=repo).out)["id"]

    data = json.loads(mm("review", pid, "--format", "json", cwd=repo).out)
    assert data["target"] == f"proposal {pid}" and data["rationale"] == "Postgres costs too much"
    assert [(b["id"], b["action"]) for b in data["blocks"]] == [(OLD, "changed"), (NEW, "added")]
    changed = data["blocks"][0]["fields"]
    assert changed == [{"field": "title", "old": "Use Postgres", "new": "Use Postgres for now"}]
    assert [f["code"] for f in data["findings"]] == ["MM-C002"]
    assert data["gate"]["allowed"] is False and data["mode"] == "propose"
    assert data["impact"] == [
        {
            "block": OLD,
            "dependents": [
                {"id": NOTE, "title": "Billing schema notes", "status": "active", "depth": 1, "via": "cites"}
            ],
        }
    ]
    assert data["commits"][0]["signature"] == "unsigned"

    text = mm("review", pid, cwd=repo)
    assert text.code == 0  # a packet with critical findings is still a packet
    assert "gate: refused" in text.out and f"  {OLD}: {NOTE} (cites, depth 1)" in text.out
    assert "title: Use Postgres -> Use Postgres for now" in text.out

    md = mm("review", pid, "--format", "markdown", cwd=repo).out
    assert md.startswith(f"## mindmem review: proposal {pid}\n")
    assert "### Checks: ❌ refused" in md and "| MM-C002 | critical |" in md
    assert "| title | Use Postgres | Use Postgres for now |" in md
    assert f"- `{OLD}` ← `{NOTE}` (cites, 1 hop)" in md
    assert (
        "| constraint | — | {axis: storage.engine, scope: PRJ-billing, modality: must_not, object: postgresql} |" in md
    )


def test_range_packet_lists_commits_and_edges(repo, mm):
    seeded(repo)
    git(repo, "tag", "before")
    put(repo, NOTE, "Billing schema notes", edges={"depends_on": [OLD]}, body="See the schema.")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Notes depend on the decision\n\nThe schema follows the storage choice.")
    data = json.loads(mm("review", "before..HEAD", "--format", "json", cwd=repo).out)
    assert data["title"] == "Notes depend on the decision"
    assert data["rationale"] == "The schema follows the storage choice."
    assert data["edges"] == {
        "added": [{"source": NOTE, "type": "depends_on", "target": OLD}],
        "removed": [{"source": NOTE, "type": "cites", "target": OLD}],
    }
    assert data["findings"] == [] and data["gate"]["allowed"] is True
    assert len(data["commits"]) == 1


def test_bad_targets_and_formats(repo, mm):
    assert mm("review", "D-20260101-aaaaaa", cwd=repo).code == 2
    assert mm("review", "HEAD..HEAD", "--format", "html", cwd=repo).code == 2
    assert mm("review", "P-20260101-abcdef", cwd=repo).code == 2


def test_markdown_summary_fits_the_limit_and_keeps_what_matters(repo, mm):
    seeded(repo)
    git(repo, "tag", "before")
    body = "A long note about billing. " * 40
    for n in range(60):
        put(repo, f"N-20260301-{n:06x}", f"Imported note {n}", body=body)
    put(repo, NEW, "No Postgres", constraint=rule("storage.engine", "PRJ-billing", "must_not", "postgresql"))
    with (repo / ".mindmem/allowed_signers").open("a") as signers:
        signers.write("mallory@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForThisTest\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Import notes")
    full = mm("review", "before..HEAD", "--format", "markdown", cwd=repo).out
    assert len(full) > 80_000
    fits = mm("review", "before..HEAD", "--format", "markdown", "--max-chars", "3000", cwd=repo).out
    assert len(fits) <= 3000
    assert "### Checks: ❌ refused" in fits and "1 critical" in fits
    assert "| MM-C002 |" in fits  # critical findings first
    assert "- `.mindmem/allowed_signers`" in fits  # governance files before the blocks
    assert "- added `N-20260301-000000` Imported note 0" in fits
    shown = fits.count("- added `")
    assert 0 < shown < 61 and f"… and {61 - shown} more block(s)" in fits
    assert f"the full packet is {len(full):,} characters" in fits
    small = mm("review", "before..HEAD", "--format", "markdown", "--max-chars", str(len(full)), cwd=repo).out
    assert small == full  # a packet that fits is not summarised
    data = json.loads(mm("review", "before..HEAD", "--json", cwd=repo).out)
    assert ".mindmem/allowed_signers" in data["paths"] and len(data["blocks"]) == 61
    assert mm("review", "before..HEAD", "--json", "--max-chars", "5000", cwd=repo).code == 2


def test_added_and_removed_blocks_show_their_whole_body_as_a_unified_diff(repo, mm):
    seeded(repo)
    git(repo, "tag", "before")
    put(repo, NEW, "No Postgres", body="Postgres costs too much.\n\nWe move to SQLite.")
    (repo / "memory" / "decisions" / f"{OLD}.md").unlink()
    put(repo, NOTE, "Billing schema notes", body="One line.")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Replace the storage decision")
    blocks = {b["id"]: b for b in json.loads(mm("review", "before..HEAD", "--json", cwd=repo).out)["blocks"]}
    assert blocks[NEW]["action"] == "added"
    assert blocks[NEW]["body_diff"] == [
        "--- before",
        "+++ after",
        "@@ -0,0 +1,3 @@",
        "+Postgres costs too much.",
        "+",
        "+We move to SQLite.",
    ]
    assert blocks[OLD]["action"] == "removed" and blocks[OLD]["body_diff"] == []  # it had no body
    assert blocks[NOTE]["body_diff"] == ["--- before", "+++ after", "@@ -0,0 +1 @@", "+One line."]
    assert [f["field"] for f in blocks[NOTE]["fields"]] == ["edges"] and blocks[OLD]["title"] == "Use Postgres"
    git(repo, "tag", "middle")
    (repo / "memory" / "decisions" / f"{NEW}.md").unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Drop it again")
    gone = json.loads(mm("review", "middle..HEAD", "--json", cwd=repo).out)["blocks"][0]
    assert gone["action"] == "removed"
    assert gone["body_diff"] == [
        "--- before",
        "+++ after",
        "@@ -1,3 +0,0 @@",
        "-Postgres costs too much.",
        "-",
        "-We move to SQLite.",
    ]
