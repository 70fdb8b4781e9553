"""SSH and GPG signatures on commits, made and checked the way git does it.

Signing runs `ssh-keygen -Y sign -n git` or `gpg --detach-sign --armor`, so the
real `git verify-commit` and `git log --show-signature` accept what mm writes.
Verification runs the same programs with the repo's list of approvers:

- ssh: `.mindmem/allowed_signers` (the ssh-keygen allowed_signers format, the
  file git reads as `gpg.ssh.allowedSignersFile`);
- gpg: `.mindmem/allowed_gpg`, one `FINGERPRINT principal` line per approver.
  It is a separate file because ssh-keygen rejects any line it cannot parse.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mindmem.errors import BadInput, ConfigError, StateError
from mindmem.store import config as cfg
from mindmem.store.files import atomic_write
from mindmem.store.repo import GitRepo

FORMATS = ("ssh", "gpg")
STATUSES = ("good", "bad", "unknown-signer", "unsigned")
ALLOWED_SIGNERS = f"{cfg.CONFIG_DIR}/allowed_signers"
ALLOWED_GPG = f"{cfg.CONFIG_DIR}/allowed_gpg"
NAMESPACE = "git"

_SSH_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_PGP_BEGIN = "-----BEGIN PGP SIGNATURE-----"
_LITERAL = "key::"
_SSH_FINGERPRINT = re.compile(r"key (SHA256:[A-Za-z0-9+/=]+)")
_KEY_TYPE = re.compile(r"^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)$")


@dataclass(frozen=True)
class SigningKey:
    """A key mm signs with. ssh: a private key file, its `.pub` twin (private half beside it or in
    the agent) or `key::ssh-ed25519 AAAA…` held by the agent. gpg: a key id or fingerprint."""

    format: str
    key: str

    def __str__(self) -> str:
        return f"{self.format} key {self.key}"


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


# -- which key ------------------------------------------------------------------


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
        done = _run(["ssh-keygen", "-Y", "sign", "-n", NAMESPACE, *args], payload, key)
    if done.returncode != 0 or _SSH_BEGIN not in done.stdout.decode(errors="replace"):
        raise StateError(f"cannot sign with {key}: {_last_line(done.stderr)} (is the key unlocked or in ssh-agent?)")
    return done.stdout.decode()


def _gpg_sign(key: SigningKey, payload: bytes) -> str:
    done = _run(
        ["gpg", "--batch", "--status-fd", "2", "--detach-sign", "--armor", "--local-user", key.key], payload, key
    )
    if done.returncode != 0 or b"[GNUPG:] SIG_CREATED" not in done.stderr:
        reason = _last_line(b"\n".join(ln for ln in done.stderr.splitlines() if not ln.startswith(b"[GNUPG:]")))
        raise StateError(
            f"cannot sign with {key}: {reason} (is the key in your keyring? a locked key needs gpg-agent: "
            "`export GPG_TTY=$(tty)` lets it ask for the passphrase)"
        )
    return done.stdout.decode()


def _run(cmd: Sequence[str], stdin: bytes, key: SigningKey | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        what = f" to use {key}" if key else ""
        raise StateError(f"`{cmd[0]}` is not installed{what}; install it (OpenSSH client or GnuPG)") from None


def _last_line(err: bytes) -> str:
    lines = [ln.strip() for ln in err.decode(errors="replace").splitlines() if ln.strip()]
    lines = [ln for ln in lines if ln != "Signing data on standard input"]
    return lines[-1] if lines else "no error message"


# -- verifying ------------------------------------------------------------------------


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
    if _SSH_BEGIN in signature:
        return _ssh_verify(payload, signature, allowed_signers, when)
    if _PGP_BEGIN in signature:
        return _gpg_verify(payload, signature, gpg_allowed)
    # x509 (gpgsm) or something else: not a kind of approver mm knows.
    return Verification("unknown-signer", format="x509" if "BEGIN SIGNED MESSAGE" in signature else None)


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
    return _run(["ssh-keygen", "-Y", op, *args], stdin)


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
        done = _run(["gpg", "--batch", "--status-fd", "1", "--verify", str(sig), "-"], payload)
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


# -- commits ----------------------------------------------------------------------------


def verify_commit(
    git: GitRepo, sha: str, allowed_signers: Path | bytes, *, gpg_allowed: Iterable[str] = ()
) -> Verification:
    """`verify` applied to a commit, at its commit time (as `git verify-commit` does)."""
    signature, payload = git.commit_signature(sha)
    when = git.commit_info(sha).time
    return verify(payload, signature, allowed_signers, gpg_allowed=gpg_allowed, when=when)


# -- approvers -------------------------------------------------------------------------


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
            done = _run(["ssh-keygen", "-y", "-f", str(path)], b"", key)
            if done.returncode != 0:
                raise StateError(f"cannot read the public half of {key}: {_last_line(done.stderr)}")
            text = done.stdout.decode()
        else:
            raise StateError(f"{key} does not exist (check signing_key / user.signingkey)")
    parts = text.split()
    if len(parts) < 2 or not _KEY_TYPE.match(parts[0]):
        raise StateError(f"{key} is not an ssh public key")
    return f"{parts[0]} {parts[1]}"


def gpg_fingerprint(key: SigningKey) -> str:
    """The primary key fingerprint of a gpg key id, from the user's keyring."""
    done = _run(["gpg", "--batch", "--with-colons", "--fingerprint", "--list-keys", key.key], b"", key)
    for line in done.stdout.decode(errors="replace").splitlines():
        if line.startswith("fpr:"):
            return line.split(":")[9].upper()
    raise StateError(f"{key} is not in your gpg keyring: {_last_line(done.stderr)}")


@dataclass(frozen=True)
class Approver:
    principal: str
    format: str
    key: str  # ssh: "TYPE BASE64"; gpg: the fingerprint

    @property
    def fingerprint(self) -> str:
        """As `Verification.fingerprint` reports it: `SHA256:…` for ssh (like `ssh-keygen -l`), the gpg fingerprint."""
        if self.format == "gpg":
            return self.key
        blob = base64.b64decode(self.key.split()[1] + "==")
        return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def approvers(allowed_signers: Path) -> list[Approver]:
    """Everyone who may sign approvals now: allowed_signers, then allowed_gpg beside it."""
    ssh = [Approver(name, "ssh", pub) for names, pub in read_allowed_signers(allowed_signers) for name in names]
    gpg = read_allowed_gpg(allowed_signers.with_name("allowed_gpg"))
    return ssh + [Approver(principal, "gpg", fpr) for fpr, principal in gpg.items()]


def read_allowed_signers(
    source: Path | bytes, when: float | None = None, *, any_time: bool = False
) -> list[tuple[tuple[str, ...], str]]:
    """(principals, `TYPE BASE64`) of every line of an allowed_signers file (or its contents) that is
    good for namespace git at `when` (unix time; default now; `any_time`: whatever the validity window):
    no CA lines, valid-after/before respected."""
    if isinstance(source, Path):
        if not source.is_file():
            return []
        source = source.read_bytes()
    moment = datetime.fromtimestamp(time.time() if when is None else when, UTC)
    found = []
    for raw in source.decode("utf-8", errors="replace").splitlines():
        fields = _split_options(raw.strip())
        if not fields or fields[0].startswith("#"):
            continue
        at = next((i for i, f in enumerate(fields) if i > 0 and _KEY_TYPE.match(f)), None)
        if at is None or at + 1 >= len(fields):
            continue
        options = [opt.lower() for opt in fields[1:at]]
        if "cert-authority" in options:
            continue
        spaces = [o.split("=", 1)[1].strip('"').split(",") for o in options if o.startswith("namespaces=")]
        if spaces and NAMESPACE not in spaces[0]:
            continue
        windows = [opt for opt in options if opt.startswith(("valid-after=", "valid-before="))]
        if not any_time and not all(_in_window(opt, moment) for opt in windows):
            continue
        principals = tuple(p for p in fields[0].strip('"').split(",") if p)
        found.append((principals, f"{fields[at]} {fields[at + 1]}"))
    return found


def unparsable_signer_lines(data: bytes) -> list[tuple[int, str]]:
    """(line number, why) for each allowed_signers line that is not blank, a comment or `principals [options]
    KEY-TYPE BASE64`: such lines are skipped when signatures are judged, so a typo would silently drop an approver."""
    problems = []
    for number, raw in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        fields = _split_options(raw.strip())
        if not fields or fields[0].startswith("#"):
            continue
        at = next((i for i, f in enumerate(fields) if i > 0 and _KEY_TYPE.match(f)), None)
        if at is None:
            problems.append((number, "no key type (like ssh-ed25519) after the principals"))
        elif at + 1 >= len(fields) or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", fields[at + 1]):
            problems.append((number, f"no base64 public key after {fields[at]}"))
    return problems


def _in_window(option: str, moment: datetime) -> bool:
    name, _, stamp = option.partition("=")
    stamp = stamp.strip('"').upper()
    digits = stamp.removesuffix("Z")
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    if len(digits) not in formats or not digits.isdigit():
        return False  # ssh-keygen would reject the line as well
    parsed = datetime.strptime(digits, formats[len(digits)])
    # Like ssh-keygen: a time without Z is local time.
    bound = parsed.replace(tzinfo=UTC) if stamp.endswith("Z") else parsed.astimezone(UTC)
    return moment >= bound if name == "valid-after" else moment < bound


def _split_options(line: str) -> list[str]:
    # Whitespace-separated, but a double-quoted span (namespaces="git,file") stays one field.
    return re.findall(r'(?:[^\s"]|"[^"]*")+', line)


def read_allowed_gpg(path: Path) -> dict[str, str]:
    """fingerprint -> principal from an allowed_gpg file; {} when there is none."""
    return parse_allowed_gpg(path.read_bytes(), path.name) if path.is_file() else {}


def parse_allowed_gpg(data: bytes, source: str = "allowed_gpg") -> dict[str, str]:
    """fingerprint -> principal from `FINGERPRINT principal` lines (`#` starts a comment)."""
    allowed = {}
    for number, raw in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fpr, _, principal = line.partition(" ")
        if not re.fullmatch(r"[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64}", fpr) or not principal.strip():
            raise ConfigError(f"{source}:{number}: expected `FINGERPRINT principal`, got {raw!r}")
        allowed[fpr.upper()] = principal.strip()
    return allowed


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


def init_signer(
    git: GitRepo, env: Mapping[str, str], fmt: str, files: Mapping[str, bytes]
) -> tuple[dict[str, bytes], str]:
    """For `mm init --signing FMT`: `files` (repo path -> bytes about to be written) with the user's
    configured key added to the approvers under their git email, and that email.

    Raises before anything is written when the key or the email is missing. An approver file the
    user already has is extended, never replaced.
    """
    key = require_key(git, env, fmt)
    email = git.config_value("user.email")
    if not email:
        raise ConfigError("--signing names you by your git email; set it with `git config user.email YOU@EXAMPLE.COM`")
    rel, line = signer_entry(email, key)
    if rel in files:
        return {**files, rel: _appended(files[rel], line)}, email
    if not _needs_entry(key, git.workdir / ALLOWED_SIGNERS, email):
        return dict(files), email
    existing = git.workdir / rel
    return {**files, rel: _appended(existing.read_bytes() if existing.is_file() else b"", line)}, email


def _needs_entry(key: SigningKey, allowed_signers: Path, principal: str) -> bool:
    listed = key_principal(key, allowed_signers)
    if listed is not None and listed != principal:
        raise BadInput(f"{key} is already an approver, as {listed}")
    return listed is None


def _appended(text: bytes, line: str) -> bytes:
    if text and not text.endswith(b"\n"):
        text += b"\n"
    return text + line.encode()
