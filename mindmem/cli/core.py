"""Block commands: init, new, show, list, fmt, validate."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

from mindmem.cli.app import AtOpt, JsonOpt, app, echo, memory, print_json, print_json_text, state
from mindmem.cli.ci import InstallOpt, show_ci
from mindmem.cli.commands import Argument, Option
from mindmem.cli.options import parse_edges, parse_sets
from mindmem.cli.progress import progress
from mindmem.errors import BadInput, CheckFailed
from mindmem.vocabulary import GOVERNANCE_MODES, choices

if TYPE_CHECKING:
    from mindmem.governance.ci import CiFile
    from mindmem.store.memory import InitResult, Memory


@app.command()
def init(
    path: Annotated[Path, Argument(help="Folder to set up (created and git-initialised if needed).")] = Path("."),
    root: Annotated[str, Option(help="Folder for memory blocks, relative to the repo.")] = "memory",
    mode: Annotated[str, Option(help=f"Governance mode: {choices(GOVERNANCE_MODES)}.")] = "propose",
    commit: Annotated[bool, Option("--commit", help="Commit the new files as 'Initialize mindmem memory'.")] = False,
    signing: Annotated[
        Optional[str],
        Option(help="ssh or gpg: list your configured signing key as an approver, named by your git email."),
    ] = None,
    ci: Annotated[
        Optional[str],
        Option("--ci", metavar="HOST", help="Also write pull-request CI files for: github (see `mm ci`)."),
    ] = None,
    install: InstallOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set up mindmem in a git repository (or a new folder).

    Writes .mindmem/config.toml, .mindmem/allowed_signers, block templates in
    .mindmem/templates/ and the memory folders. Existing files and history are
    left alone; nothing is committed unless you pass --commit. In a repo that
    is already set up, `--ci HOST` only writes or updates the CI files (as
    `mm ci HOST` does).

    \b
    Example:
      mm init                      # in your project repo
      mm init ~/team-memory --mode enforce --commit
      mm init --signing ssh --commit   # you become the first approver (docs/governance.md)
      mm init --ci github              # plus a pull-request workflow (docs/review.md)
    """
    from mindmem.governance import approvers
    from mindmem.governance import ci as ci_files
    from mindmem.store.memory import Memory

    # Like `git -C`, a relative PATH is taken from the -C folder (or $MM_REPO).
    base = Path(state["repo"] or os.environ.get("MM_REPO") or ".")
    spec = None
    if ci:
        ci_files.check_host(ci)
        existing = _existing_memory(base / path)
        # Where CI installs from is settled before anything is written.
        spec = ci_files.install_spec(existing.workdir if existing else base / path, install)
        if existing is not None:
            _ci_only(existing, ci, spec, as_json)
            return
    elif install:
        raise BadInput("--install says where CI installs mindmem from; use it with --ci HOST")
    add_signer = approvers.init_signer(signing) if signing is not None else None
    result = Memory.init(base / path, root=root, mode=mode, commit=commit, add_signer=add_signer)
    written = ci_files.write_ci(Memory(result.path), ci, spec) if ci and spec else []
    _print_init(result, written, signing, as_json)


def _ci_only(existing: Memory, host: str, spec: str, as_json: bool) -> None:
    """`mm init --ci HOST` where mindmem is set up already: only the CI files."""
    from mindmem.governance import ci as ci_files
    from mindmem.jsonable import to_data

    files = ci_files.write_ci(existing, host, spec)
    if as_json:
        print_json({"path": str(existing.workdir), "created": [], "ci": to_data(files)})
        return
    echo(f"mindmem is already set up in {existing.workdir}; only the CI files were written")
    show_ci(files)


def _print_init(result: InitResult, written: list[CiFile], signing: str | None, as_json: bool) -> None:
    if as_json:
        from mindmem.jsonable import to_data

        print_json({**to_data(result), "ci": to_data(written)})
        return
    if result.git_initialized:
        echo(f"Initialized an empty git repository in {result.path}")
    echo(f"Initialized mindmem memory in {result.path} ({len(result.created)} files)")
    if result.signer:
        echo(f"Listed your {signing} signing key as approver {result.signer}")
    if written:
        show_ci(written)
    if result.commit:
        echo(f"Committed {result.commit[:12]} Initialize mindmem memory")
    else:
        echo("Nothing committed; review and commit the files, or run again with --commit.")


def _existing_memory(path: Path):
    """The Memory at `path` when mindmem is already set up there, else None."""
    from mindmem.errors import StateError
    from mindmem.store.memory import Memory

    if not path.is_dir():
        return None
    try:
        return Memory(path)
    except StateError:
        return None


@app.command()
def new(
    kind: Annotated[
        str,
        Argument(metavar="TYPE", help="decision, fact, task, incident, note, entity, person, project, tool, org"),
    ],
    title: Annotated[str, Option("--title", "-t", help="One-line title.")],
    body: Annotated[
        Optional[str],
        Option("--body", "-b", help="Markdown body, or - to read stdin. Default: the type's template."),
    ] = None,
    set_: Annotated[
        Optional[list[str]], Option("--set", "-s", help="key=value (YAML value), repeatable.", show_default=False)
    ] = None,
    edge: Annotated[
        Optional[list[str]], Option("--edge", "-e", help="EDGE_TYPE:ID, repeatable.", show_default=False)
    ] = None,
    block_id: Annotated[Optional[str], Option("--id", help="Use this ID instead of drawing one.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a new block into the work tree and print its ID.

    The file is canonical and lands at ROOT/TYPE_DIR/ID.md. Nothing is committed:
    propose it (or commit it) when you are ready.

    \b
    Example:
      mm new decision -t "Store billing events in PostgreSQL" \\
          --set subject=PRJ-billing --set tags=[storage,billing] \\
          --set 'constraint={axis: storage.engine, scope: PRJ-billing, modality: must, object: postgresql}' \\
          --edge cites:F-20261120-aa10f3
      mm new person -t "Alice Example"          # -> PER-alice-example
      echo "Deploys go through the staging cluster." | mm new fact -t "Deploy path" -b -
    """
    if body == "-":
        from mindmem.store.text import read_stdin

        body = read_stdin()
    mem = memory()
    block = mem.new(kind, title=title, body=body, fields=parse_sets(set_), edges=parse_edges(edge), block_id=block_id)
    path = mem.path_of(block).relative_to(mem.workdir).as_posix()
    if as_json:
        print_json({"id": block.id, "path": path})
    else:
        echo(block.id)


@app.command()
def show(
    block_id: Annotated[str, Argument(metavar="ID", help="Block ID, e.g. D-20261125-7f3a9c or PER-alice.")],
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one block, from the work tree or as it was at a revision, or a proposal (P-…) and its changes.

    \b
    Example:
      mm show D-20261125-7f3a9c
      mm show PER-alice --at HEAD~3 --json
    """
    from mindmem.store.blocks import render

    if block_id.startswith("P-"):
        from mindmem import governance as gov
        from mindmem.cli.governance import show_proposal

        mem = memory()
        proposal = gov.find_proposal(mem, block_id)
        show_proposal(mem, proposal, as_json)
        return
    with progress("show") as step:  # a first run on a large repo parses every block once
        step("reading the blocks")
        block, snap = memory().lookup(block_id, at)
    if as_json:
        print_json({**block.to_json(), "path": snap.paths[block.id], "commit": snap.commit})
    else:
        echo(render(block), nl=False)


@app.command(name="list")
def list_(
    type_: Annotated[Optional[str], Option("--type", help="Only this type (decision, fact, …).")] = None,
    status: Annotated[Optional[str], Option(help="Only this status (active, todo, …).")] = None,
    tag: Annotated[Optional[str], Option(help="Only blocks with this tag.")] = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List blocks, oldest first, with type, status and title.

    \b
    Example:
      mm list --type decision --status active
      mm list --tag billing --at v1.2 --json
    """
    from mindmem.store.listing import listing, listing_json

    with progress("list") as step:
        step("reading the blocks")
        if as_json:  # the frontmatter; `mm show` gives the body
            text = listing_json(memory(), type=type_, status=status, tag=tag, at=at)
        else:
            found = listing(memory(), type=type_, status=status, tag=tag, at=at)
    if as_json:
        print_json_text(text)
        return
    for row in found:
        echo(f"{row.id:<20} {row.type:<9} {row.status:<10} {row.title}")


@app.command()
def fmt(
    check: Annotated[bool, Option("--check", help="Only report files that are not canonical (exit 1).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Rewrite every block file into its canonical form.

    Keys go in the fixed order, unknown keys a person added are kept after them.
    A malformed file stops the run before anything is written.

    \b
    Example:
      mm fmt --check    # in CI
      mm fmt
      mm fmt --check --json
    """
    changed = memory().fmt(check=check)
    if as_json:
        print_json({"check": check, "changed": changed, "canonical": not changed})
        if check and changed:
            raise SystemExit(CheckFailed.exit_code)
        return
    for path in changed:
        echo(("would reformat " if check else "reformatted ") + path)
    if check and changed:
        raise CheckFailed(f"{len(changed)} block file(s) are not canonical; run `mm fmt`")
    if not changed:
        echo("all block files are canonical")


@app.command()
def validate(as_json: JsonOpt = False) -> None:
    """Check every block file in the work tree against the schema (exit 1 on any problem).

    Reports every problem, not only the first: bad YAML, missing or wrong-typed
    fields, IDs that do not match their type, duplicate IDs, misplaced files.
    Markdown files that are not named ID.md (notes written in Obsidian, say) are
    listed as warnings: every other command ignores them.

    \b
    Example:
      mm validate
    """
    from mindmem.store import walk
    from mindmem.store.snapshot import is_note_path

    mem = memory()
    count, problems = mem.validate()
    # Listed, not read: an unreadable file is already one of the problems.
    notes = sorted(p for p, _ in walk.tree(str(mem.workdir), mem.root, mem.settings.max_block_bytes) if is_note_path(p))
    note = "a Markdown note, not a block (block files are named ID.md); mm ignores it"
    if as_json:
        print_json(
            {
                "blocks": count,
                "problems": [{"path": p.path, "line": p.line, "message": p.reason} for p in problems],
                "warnings": [{"path": path, "message": note} for path in notes],
            }
        )
    else:
        for problem in problems:
            echo(str(problem))
        for path in notes:
            echo(f"{path}: warning: {note}")
        warned = f", {len(notes)} note(s) ignored" if notes else ""
        echo(f"{count} block file(s), {len(problems)} problem(s){warned}")
    if problems:
        raise SystemExit(CheckFailed.exit_code)
