"""mm status on a real repo: uncommitted changes, proposals with findings, stale citations, index, hooks."""

from __future__ import annotations

import json

from check_helpers import put, rule
from conftest import git, propose

OLD = "D-20260101-aaaaaa"
NEW = "D-20260201-bbbbbb"
NOTE = "N-20260101-000001"


def test_status_of_a_clean_repo(repo, mm):
    data = json.loads(mm("status", "--json", cwd=repo).out)
    assert data["changes"] == [] and data["proposals"] == [] and data["stale"] == []
    assert data["branch"] == "main" and data["governed_branch"] == "main" and data["mode"] == "propose"
    assert set(data["hooks"].values()) == {"absent"}
    assert data["next"] == ["mm hooks install   # check commits and keep the index in step"]
    text = mm("status", cwd=repo).out
    assert "no uncommitted memory changes" in text and "no open proposals" in text
    assert "git hooks: not installed" in text


def test_status_shows_changes_proposals_stale_citations_and_what_next(repo, mm):
    (repo / "src").mkdir()
    (repo / "src/store.py").write_text("".join(f"line {n}\n" for n in range(1, 11)))
    git(repo, "add", "src")
    git(repo, "commit", "-q", "-m", "code")
    sha = git(repo, "rev-parse", "HEAD").strip()
    put(repo, OLD, "Use Postgres", constraint=rule("storage.engine", "PRJ-billing", "must", "postgresql"))
    put(repo, NOTE, "Store notes", citations=[f"src/store.py@{sha[:12]}#L2-L3"])
    git(repo, "add", "memory")
    git(repo, "commit", "-q", "-m", "memory")
    (repo / "src/store.py").write_text("line 1\nchanged\n" + "".join(f"line {n}\n" for n in range(3, 11)))
    git(repo, "commit", "-q", "-am", "code moves on")
    put(repo, NEW, "No Postgres", constraint=rule("storage.engine", "PRJ-billing", "must_not", "postgresql"))
    pid = propose(mm, repo, "-r", "Postgres costs too much")
    put(repo, "N-20260101-000002", "Unproposed notes")
    mm("hooks", "install", cwd=repo)

    data = json.loads(mm("status", "--json", cwd=repo).out)
    assert data["changes"] == ["memory/notes/N-20260101-000002.md"]
    [prop] = data["proposals"]
    assert prop["id"] == pid and prop["counts"]["critical"] == 1 and prop["applies_cleanly"] is True
    assert prop["critical"][0].startswith("MM-C002 ")
    assert [(f["code"], f["blocks"]) for f in data["stale"]] == [("MM-F002", [NOTE])]
    assert set(data["hooks"].values()) == {"installed"}
    assert data["next"][0].startswith("mm propose -r")
    assert data["next"][1] == f"mm check --proposal {pid} --fix   # 1 critical finding(s)"
    assert data["next"][2].startswith("mm check --severity warning")
    text = mm("status", cwd=repo).out
    assert f"  {pid}  " in text and "1 critical; applies cleanly" in text and "    MM-C002 " in text
    assert "MM-F002 memory/notes/N-20260101-000001.md" in text
