"""GPG signatures: the same verdicts as git, approvers by fingerprint, `mm init --signing gpg`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git
from signing_helpers import HAS_GPG, commit_on_main, git_verify, mm_verify, tamper

from mindmem.errors import ConfigError, StateError
from mindmem.governance import signing as sg
from mindmem.governance.signing import SigningKey
from mindmem.store.repo import GitRepo

# -- gpg -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gnupg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A throwaway keyring with one passphrase-less signing key: (GNUPGHOME, fingerprint)."""
    if not HAS_GPG:
        pytest.skip("gpg is not installed")
    home = tmp_path_factory.mktemp("gpg")
    home.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    run = {"env": env, "capture_output": True, "text": True, "check": True}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Gina <gina@example.com>", "ed25519", "sign", "0"],
        **run,
    )
    listing = subprocess.run(["gpg", "--with-colons", "--fingerprint", "gina@example.com"], **run).stdout
    fpr = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    yield home, fpr
    subprocess.run(["gpgconf", "--kill", "all"], env=env, capture_output=True)


@pytest.fixture
def gina(gnupg: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> tuple[SigningKey, str]:
    monkeypatch.setenv("GNUPGHOME", str(gnupg[0]))
    return SigningKey("gpg", gnupg[1]), gnupg[1]


def test_gpg_verdicts_agree_with_git(repo: Path, gina: tuple[SigningKey, str], tmp_path: Path, monkeypatch) -> None:
    key, fpr = gina
    allowed = repo / sg.ALLOWED_SIGNERS
    good = commit_on_main(repo, key)
    assert git_verify(repo, good).returncode == 0
    assert "Good signature from" in git(repo, "log", "--show-signature", "-1", good)
    assert mm_verify(repo, good, gpg_allowed=[fpr]) == sg.Verification("good", "Gina <gina@example.com>", fpr, "gpg")
    named = sg.read_allowed_gpg(_write(tmp_path / "allowed_gpg", f"# approvers\n{fpr.lower()} gina@example.com\n"))
    assert mm_verify(repo, good, gpg_allowed=named).principal == "gina@example.com"
    # A valid signature by a key nobody listed: git accepts it (any key in your keyring),
    # mm does not, because only listed approvers count.
    assert mm_verify(repo, good).status == "unknown-signer"

    forged = tamper(repo, good)
    assert git_verify(repo, forged).returncode != 0
    assert mm_verify(repo, forged, gpg_allowed=[fpr]).status == "bad"

    monkeypatch.setenv("GNUPGHOME", str(_empty_gnupghome(tmp_path)))
    assert git_verify(repo, good).returncode != 0
    verdict = mm_verify(repo, good, gpg_allowed=[fpr])
    assert verdict.status == "unknown-signer" and verdict.fingerprint and fpr.endswith(verdict.fingerprint)
    assert allowed.read_text().startswith("#")


def test_gpg_key_from_git_config_and_approver_file(repo: Path, gina: tuple[SigningKey, str]) -> None:
    key, fpr = gina
    git(repo, "config", "user.signingkey", "gina@example.com")
    assert sg.signing_key(GitRepo.discover(repo), {}) == SigningKey("gpg", "gina@example.com")
    allowed = repo / sg.ALLOWED_SIGNERS
    assert sg.key_principal(key, allowed) is None
    assert sg.add_allowed_signer(allowed, "gina@example.com", SigningKey("gpg", "gina@example.com"))
    assert not sg.add_allowed_signer(allowed, "gina@example.com", key)
    assert (repo / sg.ALLOWED_GPG).read_text() == f"{fpr} gina@example.com\n"
    assert sg.key_principal(key, allowed) == "gina@example.com"
    assert "#" in allowed.read_text()  # the ssh file is left alone


def test_init_signing_gpg_lists_the_fingerprint(tmp_path: Path, gina: tuple[SigningKey, str], mm) -> None:
    path = tmp_path / "team"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.signingkey", "gina@example.com")
    assert mm("init", "--signing", "ssh", cwd=path).code == 2  # the configured key is a gpg key
    assert mm("init", "--signing", "pgp", cwd=path).code == 2
    result = mm("init", "--signing", "gpg", "--commit", cwd=path)
    assert result.code == 0, result.err
    assert git(path, "show", f"HEAD:{sg.ALLOWED_GPG}") == f"{gina[1]} test@example.com\n"


def test_gpg_sign_with_unknown_key_is_a_clear_error(gina: tuple[SigningKey, str]) -> None:
    with pytest.raises(StateError, match=r"cannot sign with gpg key nobody@example\.com"):
        sg.sign(SigningKey("gpg", "nobody@example.com"), b"payload")


def test_allowed_gpg_rejects_malformed_lines(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="allowed_gpg:2"):
        sg.read_allowed_gpg(_write(tmp_path / "allowed_gpg", "# ok\nABCD gina\n"))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _empty_gnupghome(tmp_path: Path) -> Path:
    home = tmp_path / "empty-gnupg"
    home.mkdir(mode=0o700)
    return home
