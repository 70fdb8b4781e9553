"""Signing in one import: keys and signing (`keys`), what a signature proves (`signatures`), who is an
approver (`approvers`, and the approver files read as data in `mindmem.store.allowed_signers`)."""

from __future__ import annotations

from mindmem.governance.approvers import add_allowed_signer, init_signer, key_principal, signer_entry
from mindmem.governance.keys import (
    FORMATS,
    SigningKey,
    gpg_fingerprint,
    parse_key,
    public_key,
    require_key,
    sign,
    signing_key,
)
from mindmem.governance.signatures import STATUSES, Verification, verify, verify_commit
from mindmem.store.allowed_signers import (
    ALLOWED_GPG,
    ALLOWED_SIGNERS,
    NAMESPACE,
    Approver,
    approvers,
    parse_allowed_gpg,
    read_allowed_gpg,
    read_allowed_signers,
    unparsable_signer_lines,
)

__all__ = [
    "ALLOWED_GPG",
    "ALLOWED_SIGNERS",
    "FORMATS",
    "NAMESPACE",
    "STATUSES",
    "Approver",
    "SigningKey",
    "Verification",
    "add_allowed_signer",
    "approvers",
    "gpg_fingerprint",
    "init_signer",
    "key_principal",
    "parse_allowed_gpg",
    "parse_key",
    "public_key",
    "read_allowed_gpg",
    "read_allowed_signers",
    "require_key",
    "sign",
    "signer_entry",
    "signing_key",
    "unparsable_signer_lines",
    "verify",
    "verify_commit",
]
