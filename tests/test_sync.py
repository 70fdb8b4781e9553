"""`mm sync`: two clones of one bare remote propose, approve and reject independently and lose nothing."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from conftest import fsck, git


@pytest.fixture
def world(repo: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A bare remote holding the memory repo, and two clones of it (the second one used by Bob)."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    a, b = tmp_path / "a", tmp_path / "b"
    git(tmp_path, "clone", "-q", str(remote), str(a))
    git(tmp_path, "clone", "-q", str(remote), str(b))
    git(b, "config", "user.name", "Bob")
    return remote, a, b


def propose(mm, clone: Path, title: str) -> tuple[str, str]:
    """(proposal ID, block ID) of a new note proposed in `clone`."""
    done = mm("propose", "-r", "worth remembering", "--add", "note", "--set", f"title={title}", "--json", cwd=clone)
    assert done.code == 0, done.err
    data = json.loads(done.out)
    return data["id"], data["blocks"][0]


def approve(mm, clone: Path, pid: str) -> None:
    done = mm("approve", pid, cwd=clone)
    assert done.code == 0, done.err


def sync(mm, clone: Path, *args: str) -> dict:
    done = mm("sync", *args, "--json", cwd=clone)
    assert done.code == 0, done.err
    return json.loads(done.out)


def refs(path: Path, prefix: str = "refs/heads/") -> dict[str, str]:
    out = git(path, "for-each-ref", "--format=%(refname:short) %(objectname)", prefix)
    return dict(line.split() for line in out.splitlines())


def blocks_on_main(path: Path) -> set[str]:
    names = git(path, "ls-tree", "-r", "--name-only", "main", "memory").split()
    return {Path(n).stem for n in names if Path(n).stem[:2] in ("N-", "D-", "F-")}


def test_propose_on_both_approve_on_either_nothing_lost(world, mm):
    remote, a, b = world
    p1, n1 = propose(mm, a, "Deploys go out on Tuesdays")
    p2, n2 = propose(mm, a, "The staging database is shared")
    p3, n3 = propose(mm, b, "Billing owns the invoices table")
    p4, n4 = propose(mm, b, "Use tabs in YAML")

    assert sorted(sync(mm, a)["pushed"]) == sorted([f"proposals/{p1}", f"proposals/{p2}"])
    first_b = sync(mm, b)
    assert sorted(first_b["fetched"]) == sorted([f"proposals/{p1}", f"proposals/{p2}"])
    assert sorted(first_b["pushed"]) == sorted([f"proposals/{p3}", f"proposals/{p4}"])
    assert sorted(sync(mm, a)["fetched"]) == sorted([f"proposals/{p3}", f"proposals/{p4}"])
    everyone = {f"proposals/{p}" for p in (p1, p2, p3, p4)}
    for path in (a, b, remote):
        assert set(refs(path, "refs/heads/proposals/")) == everyone

    approve(mm, a, p1)
    approve(mm, a, p3)  # Bob's proposal, approved by Alice
    assert mm("reject", p4, "-r", "YAML forbids tabs for indentation", cwd=b).code == 0

    pushed = sync(mm, a)
    assert pushed["governed"]["action"] == "pushed"
    assert sorted(pushed["pruned"]["remote"]) == sorted([f"proposals/{p1}", f"proposals/{p3}"])
    pulled = sync(mm, b)
    assert pulled["governed"]["action"] == "fast-forwarded"
    assert sorted(pulled["pruned"]["here"]) == sorted([f"proposals/{p1}", f"proposals/{p3}"])
    assert pulled["pushed"] == [f"rejected/{p4}"] and pulled["pruned"]["remote"] == [f"proposals/{p4}"]
    assert {f"memory/notes/{n1}.md", f"memory/notes/{n3}.md"} <= set(pulled["governed"]["refreshed"])

    approve(mm, b, p2)  # Alice's proposal, approved by Bob
    assert sync(mm, b)["governed"]["action"] == "pushed"
    last = sync(mm, a)
    assert last["fetched"] == [f"rejected/{p4}"]
    assert sorted(last["pruned"]["here"]) == sorted([f"proposals/{p2}", f"proposals/{p4}"])

    tips = {git(path, "rev-parse", "main").strip() for path in (a, b, remote)}
    assert len(tips) == 1
    for path in (a, b, remote):
        assert blocks_on_main(path) >= {n1, n2, n3} and n4 not in blocks_on_main(path)
        assert refs(path, "refs/heads/proposals/") == {}
        assert list(refs(path, "refs/heads/rejected/")) == [f"rejected/{p4}"]
        fsck(path)
    for clone in (a, b):
        assert git(clone, "status", "--porcelain") == ""
        assert all((clone / "memory" / "notes" / f"{n}.md").is_file() for n in (n1, n2, n3))
        events = json.loads(mm("audit", "--json", cwd=clone).out)
        assert {e["proposal"] for e in events if e["kind"] == "approved"} == {p1, p2, p3}
        assert [e["proposal"] for e in events if e["kind"] == "rejected"] == [p4]
    for clone in (a, b):  # settled: nothing moves any more
        again = sync(mm, clone)
        assert again["governed"]["action"] == "up-to-date" and not (again["fetched"] or again["pushed"])


def test_diverged_governed_branches_are_refused_and_the_advice_works(world, mm):
    remote, a, b = world
    pa, na = propose(mm, a, "Alice learned this")
    approve(mm, a, pa)
    pb, nb = propose(mm, b, "Bob learned that")
    approve(mm, b, pb)
    sync(mm, a)
    before_b, before_remote = refs(b, "refs/"), refs(remote)

    refused = mm("sync", cwd=b)
    assert refused.code == 3
    assert "diverged" in refused.err and "Nothing was changed" in refused.err
    assert refs(remote) == before_remote  # the remote's main was not overwritten
    after_b = refs(b, "refs/")
    assert {k: v for k, v in after_b.items() if not k.startswith("origin/")} == {
        k: v for k, v in before_b.items() if not k.startswith("origin/")
    }
    assert git(b, "status", "--porcelain") == ""

    # The refusal says what to do; doing exactly that keeps both approvals.
    for line in refused.err.splitlines():
        if line.startswith("  git ") or line.startswith("  mm "):
            words = line.split("    (")[0].split()
            if words[0] == "git":
                git(b, *words[1:])
            else:
                done = mm(*words[1:], cwd=b)
                assert done.code == 0, f"{line}: {done.err}"
    sync(mm, a)
    for path in (a, b, remote):
        assert blocks_on_main(path) >= {na, nb}
        assert refs(path, "refs/heads/proposals/") == {}
        fsck(path)
    assert git(a, "rev-parse", "main") == git(b, "rev-parse", "main") == git(remote, "rev-parse", "main")


def test_a_push_racing_another_clone_is_refused_whole(world, mm):
    remote, a, b = world
    pa, _ = propose(mm, a, "Alice approves first")
    approve(mm, a, pa)
    pb, _ = propose(mm, b, "Bob approves second")
    approve(mm, b, pb)
    pending, _ = propose(mm, b, "Bob still has this open")
    # Between Bob's fetch and his push, Alice pushes her approval (a pre-push hook makes the race certain).
    hook = b / ".git" / "hooks" / "pre-push"
    hook.write_text(
        f"#!/bin/sh\nunset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\ncat >/dev/null\ngit -C '{a}' push -q origin main\n"
    )
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    alice = git(a, "rev-parse", "main").strip()

    raced = mm("sync", cwd=b)
    assert raced.code == 3 and "refused the push" in raced.err and "nothing was pushed" in raced.err
    assert git(remote, "rev-parse", "main").strip() == alice  # never non-fast-forwarded
    assert f"proposals/{pending}" not in refs(remote)  # atomic: nothing else went either
    hook.unlink()
    assert mm("sync", cwd=b).code == 3  # and now it is plainly diverged
    assert git(remote, "rev-parse", "main").strip() == alice
    for path in (a, b, remote):
        fsck(path)


def test_a_proposal_rebased_on_both_sides_is_kept_then_pruned_once_approved(world, mm):
    remote, a, b = world
    pid, note = propose(mm, a, "Rebased on both sides")
    sync(mm, a)
    sync(mm, b)
    other, _ = propose(mm, a, "Moves main first")
    approve(mm, a, other)
    sync(mm, a)
    sync(mm, b)
    for clone in (a, b):
        assert mm("rebase", pid, cwd=clone).code == 0
    ref = f"proposals/{pid}"
    versions = (refs(a)[ref], refs(b)[ref], refs(remote)[ref])
    assert len(set(versions)) == 3

    for clone in (a, b):
        kept = sync(mm, clone)["kept"]
        assert [k["branch"] for k in kept] == [ref] and "both kept" in kept[0]["reason"]
    assert (refs(a)[ref], refs(b)[ref], refs(remote)[ref]) == versions  # nobody's version was overwritten

    approve(mm, a, pid)  # Alice's version; Bob's and the remote's make the same change
    assert sync(mm, a)["pruned"]["remote"] == [ref]
    assert sync(mm, b)["pruned"]["here"] == [ref]
    for path in (a, b, remote):
        assert note in blocks_on_main(path) and refs(path, "refs/heads/proposals/") == {}
        fsck(path)


def test_a_proposal_with_extra_work_is_kept_when_another_version_was_approved(world, mm):
    remote, a, b = world
    pid, _ = propose(mm, a, "Approved as first proposed")
    sync(mm, a)
    sync(mm, b)
    ref = f"proposals/{pid}"
    git(b, "checkout", "-q", ref)
    (b / "memory" / "notes" / "extra.md").write_text("Bob's addition\n")
    git(b, "add", "memory/notes/extra.md")
    git(b, "commit", "-q", "-m", "Bob adds to the proposal")
    git(b, "checkout", "-q", "main")
    bobs = refs(b)[ref]
    approve(mm, a, pid)
    sync(mm, a)

    report = sync(mm, b)
    assert report["governed"]["action"] == "fast-forwarded"
    assert [k["branch"] for k in report["kept"]] == [ref] and "not the one decided" in report["kept"][0]["reason"]
    assert refs(b)[ref] == bobs and ref not in refs(remote)


def test_fast_forward_respects_the_work_tree(world, mm):
    _, a, b = world
    pid, note = propose(mm, a, "Lands in Bob's work tree")
    approve(mm, a, pid)
    sync(mm, a)
    path = b / "memory" / "notes" / f"{note}.md"
    path.write_text("Bob's own draft\n")
    main = git(b, "rev-parse", "main")

    refused = mm("sync", cwd=b)
    assert refused.code == 3 and "would be overwritten" in refused.err
    assert git(b, "rev-parse", "main") == main and path.read_text() == "Bob's own draft\n"

    kept = sync(mm, b, "--keep-worktree")
    assert kept["governed"]["action"] == "fast-forwarded" and "left as it is" in kept["governed"]["note"]
    assert path.read_text() == "Bob's own draft\n"


def test_fast_forward_refreshes_project_files_with_their_modes(world, mm):
    _, a, b = world
    script = a / "deploy.sh"
    script.write_text("#!/bin/sh\necho deploy\n")
    script.chmod(0o755)
    (a / "latest").symlink_to("deploy.sh")
    git(a, "add", "deploy.sh", "latest")
    git(a, "commit", "-q", "-m", "Add the deploy script")  # code lives on main too
    assert sync(mm, a)["governed"]["action"] == "pushed"

    report = sync(mm, b)
    assert set(report["governed"]["refreshed"]) == {"deploy.sh", "latest"}
    assert (b / "deploy.sh").stat().st_mode & stat.S_IXUSR and (b / "latest").is_symlink()
    assert git(b, "status", "--porcelain") == ""


def test_fast_forward_off_the_governed_branch_leaves_the_work_tree(world, mm):
    _, a, b = world
    pid, note = propose(mm, a, "Bob is on another branch")
    approve(mm, a, pid)
    sync(mm, a)
    git(b, "checkout", "-q", "-b", "work")

    report = sync(mm, b)
    assert report["governed"]["action"] == "fast-forwarded" and "not on main" in report["governed"]["note"]
    assert git(b, "rev-parse", "main") == git(a, "rev-parse", "main")
    assert not (b / "memory" / "notes" / f"{note}.md").exists() and git(b, "status", "--porcelain") == ""


def test_which_remote(world, mm, repo):
    _, a, _ = world
    git(repo, "remote", "remove", "origin")
    none = mm("sync", cwd=repo)
    assert none.code == 3 and "no remote to sync with" in none.err
    unknown = mm("sync", "upstream", cwd=a)
    assert unknown.code == 2 and "git remote add upstream" in unknown.err
    git(a, "remote", "rename", "origin", "team")  # the governed branch's upstream follows the rename
    assert sync(mm, a)["remote"] == "team"
    text = mm("sync", cwd=a)
    assert text.code == 0 and text.out.strip() == "up to date with team"
