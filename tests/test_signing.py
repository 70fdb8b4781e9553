"""Signing and verifying commits with real ssh and gpg keys; the real git must agree with mm."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import git, ssh_key
from signing_helpers import ALICE, commit_on_main, git_verify, mm_verify, signer, tamper

from mindmem.errors import BadInput, ConfigError, StateError
from mindmem.governance import signing as sg
from mindmem.governance.signing import SigningKey
from mindmem.store.repo import GitRepo


@pytest.fixture
def alice(repo: Path, tmp_path: Path) -> SigningKey:
    """Alice's ssh key, listed in the repo's allowed_signers, which git is told to use too."""
    key = SigningKey("ssh", str(ssh_key(tmp_path / "keys", "alice")))
    assert sg.add_allowed_signer(repo / sg.ALLOWED_SIGNERS, ALICE.email, key)
    git(repo, "config", "gpg.ssh.allowedSignersFile", str(repo / sg.ALLOWED_SIGNERS))
    return key


# -- ssh: mm and git agree --------------------------------------------------------------


@pytest.mark.parametrize("case", ["good", "tampered", "unknown-signer", "unsigned", "expired-signer"])
def test_ssh_verdicts_agree_with_git(repo: Path, alice: SigningKey, tmp_path: Path, case: str) -> None:
    if case == "good":
        sha, expected = commit_on_main(repo, alice), "good"
    elif case == "tampered":
        sha, expected = tamper(repo, commit_on_main(repo, alice)), "bad"
    elif case == "unknown-signer":
        bob = SigningKey("ssh", str(ssh_key(tmp_path / "keys", "bob")))
        sha, expected = commit_on_main(repo, bob), "unknown-signer"
    elif case == "unsigned":
        sha, expected = commit_on_main(repo, None), "unsigned"
    else:
        # Alice's key was only valid until 2001: git and mm judge at commit time and refuse it.
        allowed = repo / sg.ALLOWED_SIGNERS
        allowed.write_text(allowed.read_text().replace('namespaces="git"', 'namespaces="git",valid-before="20010101"'))
        assert sg.key_principal(alice, allowed) is None  # so governance refuses before signing
        sha, expected = commit_on_main(repo, alice), "unknown-signer"

    verdict = mm_verify(repo, sha)
    assert verdict.status == expected
    assert (git_verify(repo, sha).returncode == 0) == verdict.good
    shown = git(repo, "log", "--show-signature", "-1", sha)
    if case == "good":
        assert verdict.principal == ALICE.email and verdict.format == "ssh"
        assert f'Good "git" signature for {ALICE.email}' in shown
        assert verdict.fingerprint and verdict.fingerprint in shown
    elif case == "unsigned":
        assert verdict.principal is None and verdict.fingerprint is None
        assert "signature" not in shown.lower()
    elif case == "unknown-signer":
        bob_fpr = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "keys" / "bob.pub")], capture_output=True)
        assert verdict.fingerprint == bob_fpr.stdout.decode().split()[1]
        assert "No principal matched" in shown


def test_approvers_can_be_read_from_a_commit_not_the_work_tree(repo: Path, alice: SigningKey) -> None:
    """Verifying against the approvers as committed: a work-tree edit of the file grants nothing."""
    sha = commit_on_main(repo, alice)
    committed = GitRepo.discover(repo).read_file(sha, sg.ALLOWED_SIGNERS)
    assert committed is not None and b"ssh-ed25519" not in committed
    assert mm_verify(repo, sha).good  # the work tree lists alice, the commit does not
    verdict = sg.verify_commit(GitRepo.discover(repo), sha, committed)
    assert verdict.status == "unknown-signer"
    listed = (repo / sg.ALLOWED_SIGNERS).read_bytes()
    assert sg.verify_commit(GitRepo.discover(repo), sha, listed).principal == ALICE.email


def test_signed_commit_is_a_sound_object_and_moves_no_ref(repo: Path, alice: SigningKey) -> None:
    gitrepo = GitRepo.discover(repo)
    tip = gitrepo.branch_tip("main")
    tree = gitrepo.commit_info(tip).tree
    sha = gitrepo.create_commit(tree, [tip], "Approve P-1: x\n\nwhy\n", ALICE, sign=signer(alice))
    assert gitrepo.branch_tip("main") == tip
    signature, payload = gitrepo.commit_signature(sha)
    assert signature is not None and signature.startswith("-----BEGIN SSH SIGNATURE-----")
    assert b"gpgsig" not in payload and payload.endswith(b"\n\nwhy\n")
    assert sg.verify(payload, signature, repo / sg.ALLOWED_SIGNERS).good
    git(repo, "update-ref", "refs/heads/main", sha, tip)
    git(repo, "fsck", "--strict", "--no-progress")


def test_a_signature_for_another_namespace_is_not_an_approval(repo: Path, alice: SigningKey) -> None:
    gitrepo = GitRepo.discover(repo)
    _, payload = gitrepo.commit_signature(gitrepo.branch_tip("main"))
    done = subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-n", "file", "-f", alice.key], input=payload, capture_output=True, check=True
    )
    assert sg.verify(payload, done.stdout.decode(), repo / sg.ALLOWED_SIGNERS).status == "bad"


def test_approvers_limited_to_other_namespaces_are_not_principals(repo: Path, alice: SigningKey) -> None:
    allowed = repo / sg.ALLOWED_SIGNERS
    assert sg.key_principal(alice, allowed) == ALICE.email
    allowed.write_text(allowed.read_text().replace('namespaces="git"', 'namespaces="file,email"'))
    assert sg.key_principal(alice, allowed) is None
    assert mm_verify(repo, commit_on_main(repo, alice)).status == "unknown-signer"


# -- ssh keys and approver files --------------------------------------------------------------


def test_key_principal_from_private_public_or_literal_key(tmp_path: Path) -> None:
    private = ssh_key(tmp_path / "keys", "carol")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("# approvers\n")
    key = SigningKey("ssh", str(private))
    assert sg.key_principal(key, allowed) is None
    assert sg.add_allowed_signer(allowed, "carol@example.com", key)
    literal = "key::" + " ".join(Path(f"{private}.pub").read_text().split()[:2])
    (tmp_path / "keys" / "carol.pub").unlink()  # now only `ssh-keygen -y` can tell the public half
    for form in (str(private), literal):
        assert sg.key_principal(SigningKey("ssh", form), allowed) == "carol@example.com"


def test_add_allowed_signer_appends_once_in_ssh_keygen_format(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("# approvers")  # no trailing newline: the new line must not glue onto it
    key = SigningKey("ssh", str(ssh_key(tmp_path / "keys", "dave")))
    assert sg.add_allowed_signer(allowed, "dave@example.com", key)
    assert not sg.add_allowed_signer(allowed, "dave@example.com", key)
    with pytest.raises(BadInput, match=r"already an approver, as dave@example\.com"):
        sg.add_allowed_signer(allowed, "mallory@example.com", key)
    with pytest.raises(BadInput, match="principal"):
        sg.add_allowed_signer(allowed, "two words", SigningKey("ssh", str(ssh_key(tmp_path / "keys", "erin"))))
    lines = allowed.read_text().splitlines()
    assert lines[0] == "# approvers"
    assert lines[1].startswith('dave@example.com namespaces="git" ssh-ed25519 AAAA')
    assert len(lines) == 2


def test_signing_failures_are_clear_state_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = SigningKey("ssh", str(tmp_path / "nope"))
    with pytest.raises(StateError, match="nope"):
        sg.sign(missing, b"payload")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    key = SigningKey("ssh", str(tmp_path / "nope"))
    (tmp_path / "nope").write_text("not a key\n")
    with pytest.raises(StateError, match=r"ssh-keygen.* is not installed"):
        sg.sign(key, b"payload")


def test_locked_key_without_agent_or_terminal_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        os.close(os.open("/dev/tty", os.O_RDWR))
        pytest.skip("a terminal is attached: ssh-keygen would ask it for the passphrase")
    except OSError:
        pass
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    locked = SigningKey("ssh", str(ssh_key(tmp_path / "keys", "locked", passphrase="correct horse")))
    with pytest.raises(StateError, match=r"cannot sign with ssh key .*locked"):
        sg.sign(locked, b"payload")


# -- which key ------------------------------------------------------------------------------------


def test_signing_key_from_git_config_then_mm_user_config(repo: Path, tmp_path: Path, git_env: Path) -> None:
    gitrepo = GitRepo.discover(repo)
    assert sg.signing_key(gitrepo, {}) is None
    git(repo, "config", "user.signingkey", "~/.ssh/id_ed25519.pub")
    assert sg.signing_key(gitrepo, {}) == SigningKey("gpg", "~/.ssh/id_ed25519.pub")  # gpg.format unset = openpgp
    git(repo, "config", "gpg.format", "ssh")
    assert sg.signing_key(gitrepo, {}) == SigningKey("ssh", f"{git_env}/.ssh/id_ed25519.pub")
    git(repo, "config", "user.signingkey", "ssh-ed25519 AAAAC3Nza lit")
    assert sg.signing_key(gitrepo, {}) == SigningKey("ssh", "key::ssh-ed25519 AAAAC3Nza lit")

    mm_home = tmp_path / "mmhome"
    mm_home.mkdir()
    (mm_home / "config.toml").write_text('signing_key = "ABCDEF0123456789"\n')
    env = {"MM_HOME": str(mm_home)}
    assert sg.signing_key(gitrepo, env) == SigningKey("gpg", "ABCDEF0123456789")
    assert sg.signing_key(gitrepo, {**env, "MM_SIGNING_KEY": "/keys/id"}) == SigningKey("ssh", "/keys/id")
    assert sg.signing_key(gitrepo, {**env, "MM_SIGNING_FORMAT": "ssh"}) == SigningKey("ssh", "ABCDEF0123456789")
    with pytest.raises(ConfigError, match="'pgp'"):
        sg.signing_key(gitrepo, {**env, "MM_SIGNING_FORMAT": "pgp"})

    git(repo, "config", "gpg.format", "x509")
    with pytest.raises(ConfigError, match="x509"):
        sg.signing_key(gitrepo, {})


def test_init_signing_ssh_lists_the_users_key(tmp_path: Path, mm) -> None:
    key = ssh_key(tmp_path / "keys", "alice")
    path = tmp_path / "team"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.signingkey", f"{key}.pub")
    git(path, "config", "gpg.format", "ssh")
    result = mm("init", "--signing", "ssh", "--commit", cwd=path)
    assert result.code == 0, result.err
    assert "approver test@example.com" in result.out
    committed = git(path, "show", f"HEAD:{sg.ALLOWED_SIGNERS}")
    assert committed.startswith("# Who may sign")
    assert sg.key_principal(SigningKey("ssh", str(key)), path / sg.ALLOWED_SIGNERS) == "test@example.com"
    assert (path / sg.ALLOWED_SIGNERS).read_text() == committed


def test_init_signing_extends_an_approver_file_the_user_already_has(tmp_path: Path, mm, monkeypatch) -> None:
    key = ssh_key(tmp_path / "keys", "alice")
    path = tmp_path / "team"
    (path / ".mindmem").mkdir(parents=True)
    (path / sg.ALLOWED_SIGNERS).write_text("# our approvers")
    git(path, "init", "-q", "-b", "main")
    monkeypatch.setenv("MM_SIGNING_KEY", str(key))
    result = mm("init", "--signing", "ssh", "--json", cwd=path)
    assert result.code == 0, result.err
    assert json.loads(result.out)["signer"] == "test@example.com"
    first, second = (path / sg.ALLOWED_SIGNERS).read_text().splitlines()
    assert first == "# our approvers" and second.startswith("test@example.com ")


def test_init_signing_without_a_key_writes_nothing(tmp_path: Path, mm) -> None:
    path = tmp_path / "team"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    result = mm("init", "--signing", "ssh", cwd=path)
    assert result.code == 2
    assert "no ssh key configured" in result.err and "user.signingkey" in result.err
    assert not (path / ".mindmem").exists()


# -- mm signers ------------------------------------------------------------------------------------


def test_signers_add_and_list(repo: Path, tmp_path: Path, mm) -> None:
    mine = ssh_key(tmp_path / "keys", "me")
    bob = ssh_key(tmp_path / "keys", "bob")
    result = mm("signers", "list", cwd=repo)
    assert result.code == 0 and "no signing key configured" in result.out

    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", f"{mine}.pub")
    assert mm("signers", "add", cwd=repo).code == 0
    result = mm("signers", "add", "bob@example.com", "--key", f"{bob}.pub", "--json", cwd=repo)
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "principal": "bob@example.com",
        "format": "ssh",
        "file": sg.ALLOWED_SIGNERS,
        "added": True,
    }
    again = mm("signers", "add", "bob@example.com", "--key", f"{bob}.pub", cwd=repo)
    assert again.code == 0 and "already listed" in again.out
    refused = mm("signers", "add", "mallory@example.com", "--key", str(bob), cwd=repo)
    assert refused.code == 2 and "already an approver, as bob@example.com" in refused.err

    listed = json.loads(mm("signers", "list", "--json", cwd=repo).out)
    assert [a["principal"] for a in listed["approvers"]] == ["test@example.com", "bob@example.com"]
    assert listed["you"]["principal"] == "test@example.com"
    assert "(you)" in mm("signers", "list", cwd=repo).out.splitlines()[0]
    # the file stays one ssh-keygen understands: bob's signature verifies against it
    verdict = mm_verify(repo, commit_on_main(repo, SigningKey("ssh", str(bob))))
    assert verdict.principal == "bob@example.com"
    assert verdict.fingerprint == listed["approvers"][1]["fingerprint"]  # audit output and the list line up


def test_signers_list_survives_a_missing_key_file(repo: Path, alice: SigningKey, mm, tmp_path: Path) -> None:
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(tmp_path / "gone.pub"))
    result = mm("signers", "list", cwd=repo)
    assert result.code == 0, result.err
    assert result.out.startswith(ALICE.email) and "gone.pub does not exist" in result.out


def test_signers_add_without_a_key_is_a_clear_error(repo: Path, mm) -> None:
    result = mm("signers", "add", cwd=repo)
    assert result.code == 2
    assert "no signing key configured" in result.err
    assert "ssh-" not in (repo / sg.ALLOWED_SIGNERS).read_text()
