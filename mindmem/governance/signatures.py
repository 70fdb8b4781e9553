"""What a signature on a commit proves, judged as git judges it, against the repo's approvers.

Verification runs ssh-keygen and gpg with the approver lists of `mindmem.store.allowed_signers`,
so `mm verify`, `git verify-commit` and `git log --show-signature` agree.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mindmem.governance.keys import SSH_BEGIN, run_tool
from mindmem.store.allowed_signers import NAMESPACE

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo

STATUSES = ("good", "bad", "unknown-signer", "unsigned")
_PGP_BEGIN = "-----BEGIN PGP SIGNATURE-----"
_SSH_FINGERPRINT = re.compile(r"key (SHA256:[A-Za-z0-9+/=]+)")


@dataclass(frozen=True)
class Verification:
    """What a signature says about a payload, judged against the repo's approvers."""

    status: str  # good | bad | unknown-signer | unsigned
    principal: str | None = None
    fingerprint: str | None = None
    format: str | None = None

    @property
    def good(self) -> bool:
        return self.status == "good"


def verify(
    payload: bytes,
    signature: str | None,
    allowed_signers: Path | bytes,
    *,
    gpg_allowed: Iterable[str] = (),
    when: int | None = None,
) -> Verification:
    """Judge `signature` over `payload`: good (by an allowed signer), bad (does not match the
    payload), unknown-signer (valid, but the key is not an allowed signer) or unsigned.

    `allowed_signers` is the file, or its content as bytes (e.g. read from the commit the
    approval builds on, so an unapproved edit of the work tree's file grants nothing).
    `gpg_allowed` lists the approvers' GPG fingerprints; a mapping fingerprint -> principal
    (see `parse_allowed_gpg`) also names them. `when` (unix time, usually the commit time)
    checks ssh `valid-after`/`valid-before` options at that moment, as git does.
    """
    if not signature or not signature.strip():
        return Verification("unsigned")
    if SSH_BEGIN in signature:
        return _ssh_verify(payload, signature, allowed_signers, when)
    if _PGP_BEGIN in signature:
        return _gpg_verify(payload, signature, gpg_allowed)
    # x509 (gpgsm) or something else: not a kind of approver mm knows.
    return Verification("unknown-signer", format="x509" if "BEGIN SIGNED MESSAGE" in signature else None)


def verify_commit(
    git: GitRepo, sha: str, allowed_signers: Path | bytes, *, gpg_allowed: Iterable[str] = ()
) -> Verification:
    """`verify` applied to a commit, at its commit time (as `git verify-commit` does)."""
    signature, payload = git.commit_signature(sha)
    return verify(payload, signature, allowed_signers, gpg_allowed=gpg_allowed, when=git.commit_info(sha).time)


def _ssh_verify(payload: bytes, signature: str, allowed_signers: Path | bytes, when: int | None) -> Verification:
    # The same three steps as git's verify_ssh_signed_buffer, so mm and git agree.
    stamp = [f"-Overify-time={_ssh_time(when)}"] if when is not None else []
    with tempfile.TemporaryDirectory(prefix="mm-verify-") as tmp:
        sig = Path(tmp, "commit.sig")
        sig.write_text(signature)
        if isinstance(allowed_signers, bytes):
            Path(tmp, "allowed_signers").write_bytes(allowed_signers)
            allowed_signers = Path(tmp, "allowed_signers")
        signers = ["-f", str(allowed_signers)]
        principals: list[str] = []
        if allowed_signers.is_file():
            found = _keygen("find-principals", *signers, "-s", str(sig), *stamp)
            if found.returncode == 0:
                principals = [p for p in found.stdout.decode().splitlines() if p.strip()]
        for principal in principals:
            done = _keygen("verify", *signers, "-I", principal, "-n", NAMESPACE, "-s", str(sig), *stamp, stdin=payload)
            if done.returncode == 0 and done.stdout.startswith(b"Good"):
                return Verification("good", principal, _ssh_fingerprint(done.stdout), "ssh")
        # No allowed principal vouches for it: is it at least a valid signature of this payload?
        check = _keygen("check-novalidate", "-n", NAMESPACE, "-s", str(sig), *stamp, stdin=payload)
    status = "unknown-signer" if check.returncode == 0 and check.stdout.startswith(b"Good") else "bad"
    return Verification(status, principals[0] if principals else None, _ssh_fingerprint(check.stdout), "ssh")


def _keygen(op: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return run_tool(["ssh-keygen", "-Y", op, *args], stdin)


def _ssh_time(when: int) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y%m%d%H%M%SZ")


def _ssh_fingerprint(out: bytes) -> str | None:
    match = _SSH_FINGERPRINT.search(out.decode(errors="replace"))
    return match.group(1) if match else None


def _gpg_verify(payload: bytes, signature: str, gpg_allowed: Iterable[str]) -> Verification:
    allowed = gpg_allowed if isinstance(gpg_allowed, Mapping) else dict.fromkeys(gpg_allowed, None)
    allowed = {fpr.upper(): name for fpr, name in allowed.items()}
    with tempfile.TemporaryDirectory(prefix="mm-verify-") as tmp:
        sig = Path(tmp, "commit.asc")
        sig.write_text(signature)
        done = run_tool(["gpg", "--batch", "--status-fd", "1", "--verify", str(sig), "-"], payload)
    status: dict[str, list[str]] = {}
    for line in done.stdout.decode(errors="replace").splitlines():
        if line.startswith("[GNUPG:] "):
            word, *rest = line.removeprefix("[GNUPG:] ").split(" ", 1)
            status.setdefault(word, rest)
    if "BADSIG" in status:
        return Verification("bad", format="gpg")
    if "GOODSIG" in status and "VALIDSIG" in status:
        fields = status["VALIDSIG"][0].split()
        # VALIDSIG: signing (sub)key fingerprint first, primary key fingerprint last.
        fingerprint, primary = fields[0].upper(), fields[-1].upper()
        uid = status["GOODSIG"][0].split(" ", 1)[1] if " " in status["GOODSIG"][0] else None
        for fpr in (fingerprint, primary):
            if fpr in allowed:
                return Verification("good", allowed[fpr] or uid, fpr, "gpg")
        return Verification("unknown-signer", uid, primary, "gpg")
    # ERRSIG/NO_PUBKEY (key not in the keyring), EXPKEYSIG, REVKEYSIG …: the signature may be
    # intact but nobody we trust vouches for it now.
    fpr = next((status[w][0].split()[0] for w in ("ERRSIG", "NO_PUBKEY", "EXPKEYSIG", "REVKEYSIG") if w in status), "")
    return Verification("unknown-signer", fingerprint=fpr.upper() or None, format="gpg")
