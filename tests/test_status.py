"""mm status on a real repo: uncommitted changes, proposals with findings, stale citations, index, hooks."""

from __future__ import annotations

import json
import subprocess

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


def test_status_suggests_a_split_index_for_a_large_checkout_until_there_is_one(repo, mm):
    """At 50,000 index entries git's rewrite of the whole index is most of an approval; status names
    git's remedy while the checkout of the governed branch has a whole index, and not after."""
    (repo / "vendored.txt").write_text("vendored\n")
    blob = git(repo, "hash-object", "-w", "vendored.txt").strip()
    entries = "".join(f"100644 {blob}\tvendor/file-{n:05}.txt\0" for n in range(50_000))
    subprocess.run(["git", "update-index", "-z", "--index-info"], cwd=repo, input=entries, text=True, check=True)
    git(repo, "commit", "-q", "-m", "vendor 50,000 files")
    data = json.loads(mm("status", "--json", cwd=repo).out)
    assert data["git_index_entries"] >= 50_000
    [hint] = [step for step in data["next"] if "splitIndex" in step]
    assert hint.startswith("git config core.splitIndex true")
    assert "splitIndex" in mm("status", cwd=repo).out

    git(repo, "update-index", "--split-index")
    data = json.loads(mm("status", "--json", cwd=repo).out)
    assert data["git_index_entries"] < 50_000
    assert not [step for step in data["next"] if "splitIndex" in step]
