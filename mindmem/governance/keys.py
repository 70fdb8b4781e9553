"""Which key this user signs with, and signing with it the way git does.

Signing runs `ssh-keygen -Y sign -n git` or `gpg --detach-sign --armor`, so the real
`git verify-commit` and `git log --show-signature` accept what mm writes.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mindmem.errors import BadInput, ConfigError, StateError
from mindmem.store import config as cfg
from mindmem.store.allowed_signers import KEY_TYPE, NAMESPACE

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo

FORMATS = ("ssh", "gpg")
SSH_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_LITERAL = "key::"


@dataclass(frozen=True)
class SigningKey:
    """A key mm signs with. ssh: a private key file, its `.pub` twin (private half beside it or in
    the agent) or `key::ssh-ed25519 AAAA…` held by the agent. gpg: a key id or fingerprint."""

    format: str
    key: str

    def __str__(self) -> str:
        return f"{self.format} key {self.key}"


def signing_key(git: GitRepo, env: Mapping[str, str]) -> SigningKey | None:
    """The key this user signs with: mm's user config (`signing_key`, `signing_format` in
    `$MM_HOME/config.toml`, or `MM_SIGNING_KEY`/`MM_SIGNING_FORMAT`), else git's own
    (`user.signingkey`, `gpg.format`). None when neither names a key."""
    user = cfg.user_config(env)
    if user.get("signing_key"):
        fmt = user.get("signing_format")
        return parse_key(str(user["signing_key"]), str(fmt) if fmt else None, "signing_format in MM_HOME/config.toml")
    key = git.config_value("user.signingkey")
    if not key:
        return None
    fmt = (git.config_value("gpg.format") or "openpgp").lower()
    if fmt == "x509":
        raise ConfigError("gpg.format is x509; mm signs with ssh or openpgp keys only")
    return _make_key("gpg" if fmt == "openpgp" else fmt, key, "git config gpg.format")


def require_key(git: GitRepo, env: Mapping[str, str], fmt: str | None = None) -> SigningKey:
    """The configured key (of format `fmt` when given), or a ConfigError telling the user how to set one up."""
    if fmt == "openpgp":
        fmt = "gpg"
    if fmt is not None and fmt not in FORMATS:
        raise BadInput(f"signing format '{fmt}' is not one of ssh, gpg")
    key = signing_key(git, env)
    if key is not None and (fmt is None or key.format == fmt):
        return key
    have = f"; the configured key is an {key} key" if key is not None else ""
    hint = (
        "git config user.signingkey ~/.ssh/id_ed25519.pub && git config gpg.format ssh"
        if fmt != "gpg"
        else "git config user.signingkey FINGERPRINT && git config gpg.format openpgp"
    )
    raise ConfigError(f"no {fmt or 'signing'} key configured{have}; set one with `{hint}` (see docs/governance.md)")


def parse_key(key: str, fmt: str | None = None, source: str = "--format") -> SigningKey:
    """A key as a user names it. Without `fmt`, a file or a literal ssh key is ssh, anything else a gpg key id."""
    if fmt is None:
        ssh = key.startswith((_LITERAL, "ssh-", "~")) or "/" in key or Path(key).is_file()
        fmt = "ssh" if ssh else "gpg"
    return _make_key(fmt, key, source)


def _make_key(fmt: str, key: str, source: str) -> SigningKey:
    if fmt == "openpgp":
        fmt = "gpg"
    if fmt not in FORMATS:
        raise ConfigError(f"{source}: signing format '{fmt}' is not one of ssh, gpg (openpgp)")
    if fmt == "ssh" and key.startswith("ssh-"):
        key = _LITERAL + key  # git accepts a bare literal key too
    elif fmt == "ssh" and not key.startswith(_LITERAL):
        key = os.path.expanduser(key)
    return SigningKey(fmt, key)


def public_key(key: SigningKey) -> str:
    """`TYPE BASE64` of an ssh key (from the literal, the `.pub` file, or `ssh-keygen -y`)."""
    if key.format != "ssh":
        raise BadInput(f"{key} is not an ssh key")
    if key.key.startswith(_LITERAL):
        text = key.key.removeprefix(_LITERAL)
    else:
        path = Path(key.key)
        pub = path if path.suffix == ".pub" else path.with_name(path.name + ".pub")
        if pub.is_file():
            text = pub.read_text(encoding="utf-8", errors="replace")
        elif path.is_file():
            done = run_tool(["ssh-keygen", "-y", "-f", str(path)], b"", key)
            if done.returncode != 0:
                raise StateError(f"cannot read the public half of {key}: {last_line(done.stderr)}")
            text = done.stdout.decode()
        else:
            raise StateError(f"{key} does not exist (check signing_key / user.signingkey)")
    parts = text.split()
    if len(parts) < 2 or not KEY_TYPE.match(parts[0]):
        raise StateError(f"{key} is not an ssh public key")
    return f"{parts[0]} {parts[1]}"


def gpg_fingerprint(key: SigningKey) -> str:
    """The primary key fingerprint of a gpg key id, from the user's keyring."""
    done = run_tool(["gpg", "--batch", "--with-colons", "--fingerprint", "--list-keys", key.key], b"", key)
    for line in done.stdout.decode(errors="replace").splitlines():
        if line.startswith("fpr:"):
            return line.split(":")[9].upper()
    raise StateError(f"{key} is not in your gpg keyring: {last_line(done.stderr)}")


# -- signing ----------------------------------------------------------------------


def sign(key: SigningKey, payload: bytes) -> str:
    """The armored detached signature of `payload`, as git would write it into a commit."""
    if key.format == "ssh":
        return _ssh_sign(key, payload)
    if key.format == "gpg":
        return _gpg_sign(key, payload)
    raise ConfigError(f"unknown signing format '{key.format}'")


def _ssh_sign(key: SigningKey, payload: bytes) -> str:
    with tempfile.TemporaryDirectory(prefix="mm-sign-") as tmp:
        if key.key.startswith(_LITERAL):
            # Like git: a literal key is written to a file and must be held by the agent (-U).
            keyfile = Path(tmp, "key.pub")
            keyfile.write_text(key.key.removeprefix(_LITERAL) + "\n")
            args = ["-U", "-f", str(keyfile)]
        else:
            if not Path(key.key).is_file():
                raise StateError(f"cannot sign: {key} does not exist (check signing_key / user.signingkey)")
            args = ["-f", key.key]
        # Data on stdin, signature on stdout. A passphrase is asked on the terminal (as git
        # does); without a terminal or agent ssh-keygen fails and we report it.
        done = run_tool(["ssh-keygen", "-Y", "sign", "-n", NAMESPACE, *args], payload, key)
    if done.returncode != 0 or SSH_BEGIN not in done.stdout.decode(errors="replace"):
        raise StateError(f"cannot sign with {key}: {last_line(done.stderr)} (is the key unlocked or in ssh-agent?)")
    return done.stdout.decode()


def _gpg_sign(key: SigningKey, payload: bytes) -> str:
    done = run_tool(
        ["gpg", "--batch", "--status-fd", "2", "--detach-sign", "--armor", "--local-user", key.key], payload, key
    )
    if done.returncode != 0 or b"[GNUPG:] SIG_CREATED" not in done.stderr:
        reason = last_line(b"\n".join(ln for ln in done.stderr.splitlines() if not ln.startswith(b"[GNUPG:]")))
        raise StateError(
            f"cannot sign with {key}: {reason} (is the key in your keyring? a locked key needs gpg-agent: "
            "`export GPG_TTY=$(tty)` lets it ask for the passphrase)"
        )
    return done.stdout.decode()


def run_tool(cmd: Sequence[str], stdin: bytes, key: SigningKey | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ssh-keygen or gpg; StateError naming the program when it is not installed."""
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        what = f" to use {key}" if key else ""
        raise StateError(f"`{cmd[0]}` is not installed{what}; install it (OpenSSH client or GnuPG)") from None


def last_line(err: bytes) -> str:
    """The line of a tool's stderr that says what went wrong."""
    lines = [ln.strip() for ln in err.decode(errors="replace").splitlines() if ln.strip()]
    lines = [ln for ln in lines if ln != "Signing data on standard input"]
    return lines[-1] if lines else "no error message"
