"""Governance under stress: concurrent writers, killed approvals, refusals that change nothing, real signatures.

Every check of the outcome reads the repository with the real git binary.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import approve, enforced_repo, fsck, git, new_block, propose, refused, rev, ssh_key, state

MM = str(Path(sys.executable).with_name("mm"))
WORKERS = 8
OPS_PER_WORKER = 25  # 8 x 25 = 200 operations

# One writer process: every even operation proposes a new note, every odd one approves a random open
# proposal (often one another process is approving at the same moment). Lost compare-and-swap races
# are retried; the outcome of every operation is printed as a JSON line.
WORKER = r"""
import json, random, sys, time
from pathlib import Path
from mindmem import governance as gov
from mindmem.store.changes import InlineEdit
from mindmem.errors import MindmemError, NotFound, RefConflict
from mindmem.store.memory import Memory

repo, me, ops, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
rng = random.Random(me)
memory = Memory(repo)
emit = lambda **event: print(json.dumps(event), flush=True)
Path(f"{go}.{me}").touch()
while not go.exists():
    time.sleep(0.005)

def approve(pid):
    for _ in range(300):
        try:
            return emit(op="approved", pid=pid, sha=gov.approve(memory, pid).commit)
        except RefConflict as exc:
            emit(op="retry", pid=pid, why=str(exc))
        except NotFound as exc:  # a reader between the two ref updates of a concurrent approve
            emit(op="retry", pid=pid, why=str(exc))
        except MindmemError as exc:
            if "already approved" in str(exc):
                return emit(op="already", pid=pid)
            if "would be overwritten" not in str(exc):
                raise
            # A concurrent approve of the same proposal refreshed the work tree before we read the tip.
            emit(op="retry", pid=pid, why=str(exc))
        time.sleep(rng.random() * 0.02)
    emit(op="gave-up", pid=pid)

for n in range(ops):
    if n % 2 == 0:
        request = InlineEdit(add="note", fields={"title": f"Note {n} of worker {me}"})
        proposal = gov.propose(memory, gov.inline_changes(memory, request), rationale=f"worker {me} notes item {n}")
        emit(op="proposed", pid=proposal.id, blocks=list(proposal.blocks))
    else:
        waiting = sorted(memory.git.refs(gov.PROPOSALS))
        if waiting:
            approve(rng.choice(waiting).removeprefix(gov.PROPOSALS))
        else:
            emit(op="idle")
"""


# -- helpers -------------------------------------------------------------------------------


def note(mm, repo: Path, title: str) -> str:
    """An open proposal adding one note."""
    return propose(mm, repo, "-r", "worth remembering", "--add", "note", "--set", f"title={title}")


def commits(repo: Path) -> set[str]:
    out = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)")
    return {line.split()[0] for line in out.splitlines() if line.endswith(" commit")}


PAUSED_APPROVE = """
import sys, time
from pathlib import Path
from mindmem import Memory
from mindmem.errors import MindmemError
from mindmem.governance import approve

repo, pid, marker = sys.argv[1:4]

def pause():
    Path(marker).write_text("paused")
    while Path(marker).exists():
        time.sleep(0.02)

try:
    approve(Memory(repo), pid, before_ref_move=pause)
except MindmemError as exc:
    print(f"mm: error: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)
"""


def paused_approve(repo: Path, pid: str, marker: Path) -> subprocess.Popen[str]:
    """The library's approve stopped after writing its merge commit, before any ref moves."""
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSED_APPROVE, str(repo), pid, str(marker)],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"approve ended before the pause: {proc.communicate()}")
        assert time.monotonic() < deadline, "approve never reached the pause"
        time.sleep(0.01)
    return proc


@pytest.fixture
def enforced(tmp_path: Path, mm) -> Path:
    """A team repo in enforce mode whose one approver is the user's ssh key (git config, allowed_signers)."""
    repo = enforced_repo(tmp_path / "team", mm, ssh_key(tmp_path / "keys", "alice"))
    assert "test@example.com" in git(repo, "show", "main:.mindmem/allowed_signers")
    return repo


# -- many writers at once ---------------------------------------------------------------------


def test_eight_processes_propose_and_approve_200_operations(repo: Path, tmp_path: Path):
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(repo), str(n), str(OPS_PER_WORKER), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKERS)
    ]
    deadline = time.monotonic() + 120
    while not all(Path(f"{go}.{n}").exists() for n in range(WORKERS)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "a worker did not start"
        time.sleep(0.01)
    go.touch()  # all start together
    events = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and err == "", err
        events += [json.loads(line) for line in out.splitlines()]

    kinds = Counter(e["op"] for e in events)
    assert kinds["proposed"] + kinds["approved"] + kinds["already"] + kinds["idle"] == WORKERS * OPS_PER_WORKER
    assert kinds["gave-up"] == 0
    proposed = {e["pid"]: e["blocks"] for e in events if e["op"] == "proposed"}
    approved = [e["pid"] for e in events if e["op"] == "approved"]
    assert len(proposed) == kinds["proposed"] == WORKERS * ((OPS_PER_WORKER + 1) // 2)
    assert len(approved) == len(set(approved)) > 20  # no proposal was approved twice, and many were

    # The governed branch, as git sees it: one approval merge per approved proposal, nothing else.
    log = git(repo, "log", "--first-parent", "--format=%H %P%x00%(trailers:key=Mm-Proposal,valueonly)", "main")
    merges = {}
    for line in filter(None, log.split("\n")):
        shas, _, pid = line.partition("\x00")
        if pid.strip():
            assert len(shas.split()) == 3  # a real two-parent merge
            merges.setdefault(pid.strip(), []).append(shas.split()[0])
    assert sorted(merges) == sorted(approved)
    assert all(len(found) == 1 for found in merges.values())
    reported = {e["sha"] for e in events if e["op"] == "approved"}
    assert reported == {found[0] for found in merges.values()}

    # Every approved block is at the head, no other block is, and the rest are still open proposals.
    at_head = {Path(p).stem for p in git(repo, "ls-tree", "-r", "--name-only", "main", "memory").split()}
    at_head -= {".gitkeep", "README"}
    assert at_head == {block for pid in approved for block in proposed[pid]}
    still_open = {
        r.removeprefix("refs/heads/proposals/")
        for r in git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/proposals").split()
    }
    assert still_open == set(proposed) - set(approved)
    # The work tree (on main) and the index followed every approval.
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    fsck(repo)


def test_the_loser_of_a_race_gets_exit_3_and_nothing_is_lost(repo: Path, mm, tmp_path: Path):
    first, second = note(mm, repo, "Deploys on Tuesdays"), note(mm, repo, "Staging is shared")
    old = rev(repo, "main")
    marker = tmp_path / "paused"
    proc = paused_approve(repo, first, marker)
    # While the first approve waits between writing its merge and moving main, another one lands.
    won = approve(mm, repo, second)
    marker.unlink()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3 and "refs/heads/main moved while mm was writing" in err and "Traceback" not in err
    assert rev(repo, "main") == won and rev(repo, f"{won}^") == old
    assert rev(repo, f"proposals/{first}") is not None  # the loser's proposal is untouched: retry it
    retried = approve(mm, repo, first)
    assert rev(repo, f"{retried}^") == won
    assert git(repo, "status", "--porcelain") == ""
    fsck(repo)


def test_approve_and_reject_of_one_proposal_cannot_both_win(repo: Path, mm, tmp_path: Path):
    pid = note(mm, repo, "Rewrite it in Rust")
    old = rev(repo, "main")
    marker = tmp_path / "paused"
    proc = paused_approve(repo, pid, marker)
    assert mm("reject", pid, "-r", "no capacity this quarter", cwd=repo).code == 0
    marker.unlink()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3 and f"refs/heads/proposals/{pid} moved" in err
    assert rev(repo, "main") == old and rev(repo, f"rejected/{pid}") is not None
    again = mm("approve", pid, cwd=repo)
    assert again.code == 3 and "was rejected" in again.err
    fsck(repo)


# -- killed approvals ----------------------------------------------------------------------------


def test_approve_killed_before_the_branch_moves_leaves_everything_and_reruns(repo: Path, mm, tmp_path: Path):
    block = new_block(mm, repo, "decision", "-t", "Use PostgreSQL for billing")
    pid = propose(mm, repo, "-r", "agreed in the storage review")
    old, head = rev(repo, "main"), rev(repo, f"proposals/{pid}")
    before = state(repo)
    marker = tmp_path / "paused"
    proc = paused_approve(repo, pid, marker)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    marker.unlink()
    assert proc.returncode == -signal.SIGKILL
    # The merge commit may exist as a loose object, but no ref, no index entry and no file moved.
    assert state(repo) == before
    assert rev(repo, "main") == old and rev(repo, f"proposals/{pid}") == head
    fsck(repo)
    sha = approve(mm, repo, pid)
    assert git(repo, "rev-list", "--parents", "-n", "1", sha).split()[1:] == [old, head]
    assert (repo / f"memory/decisions/{block}.md").is_file()
    assert git(repo, "status", "--porcelain") == ""
    fsck(repo)


def test_approve_killed_after_the_branch_moved_is_cleaned_up_by_a_rerun(repo: Path, mm, tmp_path: Path):
    pid = note(mm, repo, "Backups run at midnight")
    old, head = rev(repo, "main"), rev(repo, f"proposals/{pid}")
    existing = commits(repo)
    marker = tmp_path / "paused"
    proc = paused_approve(repo, pid, marker)
    (merge,) = commits(repo) - existing  # the merge commit the paused approve wrote
    assert git(repo, "rev-list", "--parents", "-n", "1", merge).split()[1:] == [old, head]
    # Simulate dying after the branch moved but before the proposal branch went away.
    git(repo, "update-ref", "refs/heads/main", merge, old)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    marker.unlink()
    rerun = mm("approve", pid, cwd=repo)
    assert rerun.code == 3 and f"{pid} is already approved on main" in rerun.err
    assert rev(repo, f"proposals/{pid}") is None and rev(repo, "main") == merge
    assert git(repo, "log", "--format=%H", "--grep", f"^Approve {pid}", "main").split() == [merge]
    again = mm("approve", pid, cwd=repo)
    assert again.code == 3 and f"already approved in {merge[:12]}" in again.err
    fsck(repo)


# -- refusals change nothing ------------------------------------------------------------------------


def test_unknown_approved_or_rejected_proposals_are_refused(repo: Path, mm):
    refused(mm, repo, ["approve", "P-20990101-abcdef"], 2, "no proposal P-20990101-abcdef")
    refused(mm, repo, ["reject", "P-20990101-abcdef", "-r", "not wanted at all"], 2, "no proposal")
    done = note(mm, repo, "Release checklist")
    sha = approve(mm, repo, done)
    refused(mm, repo, ["approve", done], 3, f"{done} is already approved in {sha[:12]}")
    refused(mm, repo, ["reject", done, "-r", "changed my mind"], 3, "already approved")
    gone = note(mm, repo, "Half-baked idea")
    assert mm("reject", gone, "-r", "belongs in the wiki", cwd=repo).code == 0
    refused(mm, repo, ["approve", gone], 3, f"{gone} was rejected")
    refused(mm, repo, ["reject", gone, "-r", "belongs in the wiki"], 3, "was rejected")
    refused(mm, repo, ["rebase", gone], 3, "was rejected")


@pytest.mark.parametrize("where", ["modified", "staged", "staged only"])
def test_approve_refuses_to_overwrite_work_in_progress(repo: Path, mm, where: str):
    block = new_block(mm, repo, "note", "-t", "Standup notes")
    approve(mm, repo, propose(mm, repo, "-r", "keep the standup notes"))
    pid = propose(mm, repo, "-r", "a clearer title", "--edit", block, "--set", "title=Daily standup")
    path = repo / f"memory/notes/{block}.md"
    committed = path.read_text()
    path.write_text(committed + "\nLocal edit in progress.\n")
    if where != "modified":
        git(repo, "add", str(path))
    if where == "staged only":  # the file matches the branch again, the index does not
        path.write_text(committed)
    refused(mm, repo, ["approve", pid], 3, f"uncommitted changes to memory/notes/{block}.md would be overwritten")


def test_approve_refuses_to_overwrite_a_file_staged_where_it_adds_one(repo: Path, mm):
    block = new_block(mm, repo, "note", "-t", "Standup notes")
    pid = propose(mm, repo, "-r", "keep the standup notes")  # moves the new file onto the proposal
    path = repo / f"memory/notes/{block}.md"
    assert not path.exists()
    path.write_text("Someone else's draft at the same path.\n")
    git(repo, "add", str(path))
    path.unlink()  # only the index holds it: approving would replace a staged file nobody committed
    before = rev(repo, "main")
    refused(mm, repo, ["approve", pid], 3, f"uncommitted changes to memory/notes/{block}.md would be overwritten")
    assert rev(repo, "main") == before
    assert git(repo, "diff", "--cached", "--name-only") == f"memory/notes/{block}.md\n"


def test_propose_from_a_detached_head_is_refused(repo: Path, mm):
    git(repo, "checkout", "-q", "--detach")
    new_block(mm, repo, "fact", "-t", "Written on a detached HEAD")
    refused(mm, repo, ["propose", "-r", "should go to a branch"], 3, "not on 'main' (HEAD: detached)")


def test_a_bare_repository_is_refused(repo: Path, mm, tmp_path: Path):
    pid = note(mm, repo, "Queue is RabbitMQ")
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    git(bare, "branch", f"proposals/{pid}", f"refs/heads/proposals/{pid}", check=False)
    before = git(bare, "for-each-ref")
    for args in (["approve", pid], ["propose", "-r", "from a server", "--add", "note", "--set", "title=X"]):
        result = mm(*args, cwd=bare)
        assert result.code == 3 and "the repository is bare" in result.err, result.err
    assert git(bare, "for-each-ref") == before


@pytest.mark.parametrize("rationale", ["", "   ", "a b c d e f g", "1234567\n"])
def test_a_rationale_needs_8_non_whitespace_characters(repo: Path, mm, rationale: str):
    block = new_block(mm, repo, "fact", "-t", "Timeout is 30s")
    pid = propose(mm, repo, "-r", "measured in production")
    approve(mm, repo, pid)
    new_block(mm, repo, "note", "-t", "Pending note")
    other = propose(mm, repo, "-r", "a note to review")
    message = "at least 8 non-whitespace characters"
    refused(mm, repo, ["propose", "-r", rationale, "--edit", block, "--set", "title=Timeout is 60s"], 2, message)
    refused(mm, repo, ["reject", other, "-r", rationale], 2, message)
    refused(mm, repo, ["rollback", pid, "-r", rationale], 2, message)
    refused(mm, repo, ["rollback", block, "-r", rationale], 2, message)
    # Eight characters are enough, however they are spaced.
    assert mm("reject", other, "-r", "a b c d e f g h", cwd=repo).code == 0


# -- signatures in enforce mode ------------------------------------------------------------------------


def test_signed_approval_is_what_git_verifies_and_a_direct_commit_fails_verify(enforced: Path, mm):
    repo = enforced
    block = new_block(mm, repo, "decision", "-t", "Approvals are signed")
    sha = approve(mm, repo, propose(mm, repo, "-r", "policy agreed by the team"))
    checked = subprocess.run(["git", "verify-commit", sha], cwd=repo, capture_output=True, text=True)
    assert checked.returncode == 0 and 'Good "git" signature for test@example.com' in checked.stderr
    assert "ssh-ed25519" in git(repo, "cat-file", "-p", sha) or "SSH SIGNATURE" in git(repo, "cat-file", "-p", sha)
    assert mm("verify", cwd=repo).code == 0
    events = json.loads(mm("audit", "--json", cwd=repo).out)
    approval = next(e for e in events if e["kind"] == "approved")
    assert approval["sha"] == sha and approval["signature"] == "good" and approval["signer"] == "test@example.com"

    # Someone edits memory with plain git: verify fails and names that commit.
    path = repo / f"memory/decisions/{block}.md"
    path.write_text(path.read_text().replace("Approvals are signed", "Approvals are optional"))
    git(repo, "commit", "-q", "-am", "quick fix")
    direct = rev(repo, "HEAD")
    report = mm("verify", cwd=repo)
    assert report.code == 1 and direct in report.out and sha not in report.out
    assert subprocess.run(["git", "verify-commit", direct], cwd=repo, capture_output=True).returncode != 0


def test_enforce_mode_refuses_a_wrong_key_or_no_key(enforced: Path, mm, tmp_path: Path):
    repo = enforced
    new_block(mm, repo, "fact", "-t", "Mallory was here")
    pid = propose(mm, repo, "-r", "a fact from an outsider")
    git(repo, "config", "user.signingkey", str(ssh_key(tmp_path / "keys", "mallory")))
    refused(mm, repo, ["approve", pid], 3, "is not an approver in .mindmem/allowed_signers")
    git(repo, "config", "--unset", "user.signingkey")
    refused(mm, repo, ["approve", pid], 3, "no signing key is set up; nothing was written")
