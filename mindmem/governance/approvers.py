"""Who a key signs as, and listing a key as an approver (`mm signers add`, `mm init --signing`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mindmem.errors import BadInput, ConfigError
from mindmem.governance.keys import SigningKey, gpg_fingerprint, public_key, require_key
from mindmem.store.allowed_signers import (
    ALLOWED_GPG,
    ALLOWED_SIGNERS,
    NAMESPACE,
    parse_allowed_gpg,
    read_allowed_gpg,
    read_allowed_signers,
)
from mindmem.store.files import atomic_write

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo


def key_principal(
    key: SigningKey, allowed_signers: Path | bytes, allowed_gpg: Path | bytes | None = None
) -> str | None:
    """The principal `key` signs as; None if not listed. The lists are files, or their committed contents
    (governance passes the governed branch's, so a work-tree edit grants nothing). `allowed_gpg` defaults
    to the file beside a `Path` allowed_signers."""
    if key.format == "gpg":
        if allowed_gpg is None:
            allowed_gpg = allowed_signers.with_name("allowed_gpg") if isinstance(allowed_signers, Path) else b""
        listed = read_allowed_gpg(allowed_gpg) if isinstance(allowed_gpg, Path) else parse_allowed_gpg(allowed_gpg)
        return listed.get(gpg_fingerprint(key))
    mine = public_key(key)
    return next((names[0] for names, pub in read_allowed_signers(allowed_signers) if pub == mine and names), None)


def signer_entry(principal: str, key: SigningKey) -> tuple[str, str]:
    """(repo-relative approver file, line) that lists `key` as `principal`:
    allowed_signers format for ssh, allowed_gpg format for gpg."""
    if not principal or any(c.isspace() or c in '",#' for c in principal):
        raise BadInput(f"principal {principal!r} must be one word without quotes, commas or '#', like an email")
    if key.format == "gpg":
        return ALLOWED_GPG, f"{gpg_fingerprint(key)} {principal}\n"
    return ALLOWED_SIGNERS, f'{principal} namespaces="{NAMESPACE}" {public_key(key)}\n'


def add_allowed_signer(allowed_signers: Path, principal: str, key: SigningKey) -> bool:
    """Append `key` as `principal` (gpg keys go to allowed_gpg beside it); False if it is listed already.

    A key already listed under another principal is refused rather than given a second name.
    """
    rel, line = signer_entry(principal, key)
    if not _needs_entry(key, allowed_signers, principal):
        return False
    target = allowed_signers.with_name(Path(rel).name)
    atomic_write(target, _appended(target.read_bytes() if target.is_file() else b"", line))
    return True


AddSigner = Callable[["GitRepo", Mapping[str, str], dict[str, bytes]], tuple[dict[str, bytes], str]]


def init_signer(fmt: str) -> AddSigner:
    """For `mm init --signing FMT` (`Memory.init(add_signer=...)`): given the repository, the environment
    and the files init is about to write, those files with the user's configured key of format `fmt`
    added to the approvers under their git email, and that email.

    It raises before anything is written when the key or the email is missing. An approver file the
    user already has is extended, never replaced.
    """

    def add(git: GitRepo, env: Mapping[str, str], files: dict[str, bytes]) -> tuple[dict[str, bytes], str]:
        key = require_key(git, env, fmt)
        email = git.config_value("user.email")
        if not email:
            raise ConfigError(
                "--signing names you by your git email; set it with `git config user.email YOU@EXAMPLE.COM`"
            )
        rel, line = signer_entry(email, key)
        if rel in files:
            return {**files, rel: _appended(files[rel], line)}, email
        if not _needs_entry(key, git.workdir / ALLOWED_SIGNERS, email):
            return dict(files), email
        existing = git.workdir / rel
        return {**files, rel: _appended(existing.read_bytes() if existing.is_file() else b"", line)}, email

    return add


def _needs_entry(key: SigningKey, allowed_signers: Path, principal: str) -> bool:
    listed = key_principal(key, allowed_signers)
    if listed is not None and listed != principal:
        raise BadInput(f"{key} is already an approver, as {listed}")
    return listed is None


def _appended(text: bytes, line: str) -> bytes:
    if text and not text.endswith(b"\n"):
        text += b"\n"
    return text + line.encode()
