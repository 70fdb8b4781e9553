"""What mm check looks at: work tree, --staged, A..B and --proposal; incremental scope, output and exit codes."""

from __future__ import annotations

import json

from check_helpers import codes, put, rule
from conftest import git

from mindmem.checks import context_for, gate, run_checks
from mindmem.governance import checks_for
from mindmem.store.memory import Memory

OLD = "D-20260101-aaaaaa"
NEW = "D-20260201-bbbbbb"
OTHER1 = "D-20250101-000001"
OTHER2 = "D-20250101-000002"


def commit_all(repo, message="memory"):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def old_contradiction(repo):
    """Two committed, untouched blocks that clash with each other (old news for an incremental check)."""
    put(repo, OTHER1, "Use Kafka", constraint=rule("queue.engine", "*", "must", "kafka"))
    put(repo, OTHER2, "Use RabbitMQ", constraint=rule("queue.engine", "*", "must", "rabbitmq"))


def test_text_output_and_exit_codes(repo, mm):
    put(repo, OLD, "Use Postgres", constraint=rule("storage.engine", "PRJ-billing", "must", "postgresql"))
    put(
        repo,
        NEW,
        "No Postgres",
        created="2026-02-01T00:00:00Z",
        constraint=rule("storage.engine", "PRJ-billing", "must_not", "postgresql"),
    )
    result = mm("check", cwd=repo)
    assert result.code == 1 and "1 critical finding(s) in work tree" in result.err
    first, fix, summary = result.out.splitlines()
    assert first.startswith(f"MM-C002 critical memory/decisions/{NEW}.md:7 {OLD} says must postgresql")
    assert fix.startswith(f"  fix: {NEW} is newer")
    assert summary == "1 critical (2 block(s) checked in work tree)"


def test_severity_filters_output_not_the_exit_code(repo, mm):
    put(repo, OLD, "Freeze deploys", expires="2020-01-01")
    put(repo, NEW, "Broken", body="x", edges={"cites": ["F-20200101-000000"]})
    warn = mm("check", "--severity", "critical", cwd=repo)
    assert warn.code == 0 and "MM-" not in warn.out and "2 warning" in warn.out
    assert mm("check", "--severity", "loud", cwd=repo).code == 2


def test_staged_checks_only_staged_blocks_against_their_neighbours(repo, mm):
    old_contradiction(repo)
    put(repo, OLD, "Use Postgres", constraint=rule("storage.engine", "PRJ-billing", "must", "postgresql"))
    commit_all(repo)
    put(
        repo,
        NEW,
        "No Postgres",
        created="2026-02-01T00:00:00Z",
        constraint=rule("storage.engine", "PRJ-billing", "must_not", "postgresql"),
    )
    (repo / "memory/notes/broken.md").write_text("not a block\n")  # unstaged: not part of the commit
    git(repo, "add", f"memory/decisions/{NEW}.md")
    result = mm("check", "--staged", "--json", cwd=repo)
    data = json.loads(result.out)
    assert (codes(data), data["checked"], data["target"], result.code) == (["MM-C002"], 1, "staged changes", 1)
    everything = json.loads(mm("check", "--staged", "--all", "--json", cwd=repo).out)
    assert codes(everything) == ["MM-C002", "MM-C004"]


def test_staged_deletion_reports_blocks_left_pointing_at_it(repo, mm):
    put(repo, OLD, "Use Postgres")
    put(repo, NEW, "Billing schema", edges={"depends_on": [OLD]})
    commit_all(repo)
    git(repo, "rm", "-q", f"memory/decisions/{OLD}.md")
    data = json.loads(mm("check", "--staged", "--json", cwd=repo).out)
    [finding] = data["findings"]
    assert finding["code"] == "MM-G001" and "was deleted by this change" in finding["message"]


def test_range_checks_what_changed_between_revisions(repo, mm):
    old_contradiction(repo)
    put(repo, OLD, "Use Postgres", constraint=rule("storage.engine", "PRJ-billing", "must", "postgresql"))
    commit_all(repo, "base")
    git(repo, "tag", "base")
    put(
        repo,
        NEW,
        "No Postgres",
        created="2026-02-01T00:00:00Z",
        constraint=rule("storage.engine", "PRJ-billing", "must_not", "postgresql"),
    )
    commit_all(repo, "change")
    data = json.loads(mm("check", "base..HEAD", "--json", cwd=repo).out)
    assert codes(data) == ["MM-C002"] and data["target"] == "base..HEAD"
    assert json.loads(mm("check", "HEAD..HEAD", "--json", cwd=repo).out)["findings"] == []
    assert mm("check", "base..HEAD", "--fix", cwd=repo).code == 2
    assert mm("check", "nope..HEAD", cwd=repo).code == 2
    assert mm("check", "base", "--staged", cwd=repo).code == 2


def test_proposal_is_checked_merged_into_the_governed_branch_and_fixed_in_place(repo, mm):
    put(repo, OLD, "Use Postgres", constraint=rule("storage.engine", "PRJ-billing", "must", "postgresql"))
    commit_all(repo)
    put(
        repo,
        NEW,
        "No Postgres",
        created="2026-02-01T00:00:00Z",
        constraint=rule("storage.engine", "PRJ-billing", "must_not", "postgresql"),
    )
    proposed = mm("propose", "-r", "Postgres is too costly for us", "--json", cwd=repo)
    assert proposed.code == 0, proposed.err
    pid = json.loads(proposed.out)["id"]
    main_before = git(repo, "rev-parse", "main").strip()
    data = json.loads(mm("check", "--proposal", pid, "--json", cwd=repo).out)
    assert codes(data) == ["MM-C002"] and data["target"] == f"proposal {pid}"

    mem = Memory(repo)
    merge, _ = checks_for(mem, pid)
    decision = gate(run_checks(context_for(mem, proposal=merge)), "enforce")
    assert not decision.allowed and decision.trailers["Mm-Check-Summary"] == "1 critical, 0 warning, 0 info"

    fixed = mm("check", "--proposal", pid, "--fix", cwd=repo)
    assert fixed.code == 0, fixed.out + fixed.err
    assert "wrote the fixes into the proposal" in fixed.out
    assert git(repo, "rev-parse", "main").strip() == main_before  # never the governed branch
    branch = f"proposals/{pid}"
    assert git(repo, "rev-list", "--count", f"main..{branch}").strip() == "1"  # still one proposal commit
    message = git(repo, "log", "-1", "--format=%B", branch)
    assert f"Mm-Proposal: {pid}" in message and f"Mm-Check-Fixed: {OLD}, {NEW}" in message
    assert f"Mm-Blocks: {OLD}, {NEW}" in message
    assert "supersedes:\n    - D-20260101-aaaaaa\n" in git(repo, "show", f"{branch}:memory/decisions/{NEW}.md")
    assert "status: superseded" in git(repo, "show", f"{branch}:memory/decisions/{OLD}.md")
    assert gate(run_checks(context_for(mem, proposal=checks_for(mem, pid)[0])), "enforce").allowed


def test_gate_by_mode():
    from mindmem.checks import Finding

    bad = [Finding("MM-C002", "critical", "clash", ("D-1", "D-2"))]
    assert not gate(bad, "enforce", override=True).allowed
    assert not gate(bad, "propose").allowed
    overridden = gate(bad, "propose", override=True)
    assert overridden.allowed and overridden.trailers["Mm-Check-Override"] == "yes"
    assert gate(bad, "detect_only").allowed
    assert gate([], "enforce").trailers == {"Mm-Check-Summary": "0 critical, 0 warning, 0 info"}
    assert gate(bad, "enforce").trailers["Mm-Check"] == ["MM-C002 critical D-1 D-2"]


def test_cache_is_derived_and_rebuilt(repo, mm):
    put(repo, OLD, "Use Postgres", constraint=rule("storage.engine", "*", "must", "postgresql"))
    put(repo, NEW, "Use MySQL", constraint=rule("storage.engine", "*", "must", "mysql"))
    first = mm("check", "--json", cwd=repo).out
    cache = repo / ".git/mindmem/checks"
    assert (cache / "digests").is_file()
    for f in cache.iterdir():
        f.write_bytes(b"garbage")
    assert mm("check", "--json", cwd=repo).out == first


def test_a_staged_block_that_no_longer_parses_is_reported_once(repo, mm):
    put(repo, OLD, "Use Postgres")
    put(repo, NEW, "Billing schema", edges={"depends_on": [OLD]})
    commit_all(repo)
    path = repo / f"memory/decisions/{OLD}.md"
    path.write_text(path.read_text().replace("title: Use Postgres", "title: Use: Postgres"))
    git(repo, "add", "memory")
    data = json.loads(mm("check", "--staged", "--json", cwd=repo).out)
    assert codes(data) == ["MM-S001"]
