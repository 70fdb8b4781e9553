"""The two approver files in `.mindmem/`, read as data: who is listed, with which key, valid when.

- `allowed_signers`: the ssh-keygen allowed_signers format (the file git reads as
  `gpg.ssh.allowedSignersFile`);
- `allowed_gpg`: one `FINGERPRINT principal` line per approver. It is a separate file because
  ssh-keygen rejects any line it cannot parse.

Pure parsing, like `config.py` for `config.toml`; what a signature proves is governance's business
(`mindmem.governance.signatures`).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mindmem.errors import ConfigError
from mindmem.store.config import CONFIG_DIR

ALLOWED_SIGNERS = f"{CONFIG_DIR}/allowed_signers"
ALLOWED_GPG = f"{CONFIG_DIR}/allowed_gpg"
# The ssh signature namespace git signs commits in.
NAMESPACE = "git"
KEY_TYPE = re.compile(r"^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)$")


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
        at = next((i for i, f in enumerate(fields) if i > 0 and KEY_TYPE.match(f)), None)
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
        at = next((i for i, f in enumerate(fields) if i > 0 and KEY_TYPE.match(f)), None)
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
