"""Approver commands: `mm signers list|add`."""

from __future__ import annotations

from typing import Annotated, Optional

from mindmem.cli.app import JsonOpt, app, echo, memory, print_json
from mindmem.cli.commands import Argument, Group, Option
from mindmem.errors import ConfigError, MindmemError

signers_app = Group(
    name="signers",
    help=(
        "Who may sign approvals: .mindmem/allowed_signers (ssh) and .mindmem/allowed_gpg (gpg).\n\n"
        "See docs/governance.md, section Signing."
    ),
)
app.add_group(signers_app)


@signers_app.command(name="list")
def list_(as_json: JsonOpt = False) -> None:
    """List the approvers valid now, and which one your signing key is.

    \b
    Example:
      mm signers list
      mm signers list --json
    """
    from mindmem.governance import signing

    mem = memory()
    allowed = mem.workdir / signing.ALLOWED_SIGNERS
    found = signing.approvers(allowed)
    key = signing.signing_key(mem.git, mem.env)
    mine, problem = None, None
    if key is not None:
        # A broken key setup should not hide who the approvers are.
        try:
            mine = signing.key_principal(key, allowed)
        except MindmemError as exc:
            problem = str(exc)
    if as_json:
        print_json(
            {
                "approvers": [
                    {"principal": a.principal, "format": a.format, "key": a.key, "fingerprint": a.fingerprint}
                    for a in found
                ],
                "you": {"format": key.format, "key": key.key, "principal": mine, "problem": problem}
                if key is not None
                else None,
            }
        )
        return
    for a in found:
        marker = "  (you)" if a.principal == mine else ""
        echo(f"{a.principal:<30} {a.format:<4} {a.fingerprint}{marker}")
    if key is None:
        echo("You have no signing key configured (docs/governance.md, section Signing).")
    elif problem:
        echo(f"Your signing key cannot be read: {problem}")
    elif mine is None:
        echo(f"Your {key} is not an approver; `mm signers add` lists it.")


@signers_app.command()
def add(
    principal: Annotated[
        Optional[str], Argument(help="Name to list the key under. Default: your git user.email.")
    ] = None,
    key: Annotated[
        Optional[str],
        Option(help="Key to add: an ssh .pub file, key::ssh-… or a gpg key id. Default: your signing key."),
    ] = None,
    fmt: Annotated[Optional[str], Option("--format", help="ssh or gpg (default: guessed from --key).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a key to the approvers in the work tree; review and commit the change like any other.

    ssh keys go to .mindmem/allowed_signers (with namespaces="git"), gpg keys to
    .mindmem/allowed_gpg as FINGERPRINT PRINCIPAL (the key must be in your keyring).
    A key already listed is left alone; one listed under another name is refused.

    \b
    Example:
      mm signers add                                        # your own key, as your git email
      mm signers add bob@example.com --key bob_ed25519.pub
      mm signers add carol@example.com --key 0123ABCD… --format gpg
      git commit -m "Add Bob as approver" .mindmem/allowed_signers
    """
    from mindmem.governance import signing

    mem = memory()
    chosen = signing.parse_key(key, fmt) if key else signing.require_key(mem.git, mem.env, fmt)
    name = principal or mem.git.config_value("user.email")
    if not name:
        raise ConfigError("name the approver, or set `git config user.email` to use your email")
    allowed = mem.workdir / signing.ALLOWED_SIGNERS
    added = signing.add_allowed_signer(allowed, name, chosen)
    target = signing.ALLOWED_GPG if chosen.format == "gpg" else signing.ALLOWED_SIGNERS
    if as_json:
        print_json({"principal": name, "format": chosen.format, "file": target, "added": added})
    elif added:
        echo(f"Added {chosen} as {name} to {target}; review and commit it.")
    else:
        echo(f"{chosen} is already listed as {name} in {target}.")
