"""The set of blocks at one point in time (a commit, or the work tree), built from raw files.

Pure: it takes (path, bytes) pairs, whoever read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mindmem.errors import BlockError, DuplicateId
from mindmem.store.blocks import ID_PATTERN, ID_RE, Block, block_relpath, parse


@dataclass(frozen=True)
class Snapshot:
    """Blocks by ID, where each lives, and the commit they came from (None for the work tree)."""

    commit: str | None
    blocks: Mapping[str, Block] = field(default_factory=dict)
    paths: Mapping[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.blocks)

    def __contains__(self, block_id: object) -> bool:
        return block_id in self.blocks


# A block file's name, as a regex.
BLOCK_NAME = rf"{ID_PATTERN}\.md"


def is_block_path(path: str) -> bool:
    """A block file is named by its ID (`ID.md`). Other Markdown files under the memory root (a
    README, notes written in Obsidian) are notes: `mm validate` lists them and everything else
    ignores them, so one stray note never stops a command."""
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".md") and ID_RE.match(name[:-3]) is not None


def id_of_path(path: str) -> str:
    """The block ID a block file's name gives (`memory/notes/N-….md` -> `N-…`)."""
    return path.rsplit("/", 1)[-1].removesuffix(".md")


def is_note_path(path: str) -> bool:
    """A Markdown file under the memory root that is not a block (README.md files are expected)."""
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".md") and name != "README.md" and not is_block_path(path)


def scan(
    files: Iterable[tuple[str, bytes]], root: str, commit: str | None, *, strict_paths: bool = True
) -> tuple[Snapshot, list[BlockError]]:
    """Parse every block file; return what parsed and every problem found.

    With `strict_paths`, a block whose file is not at `ROOT/TYPE_DIR/ID.md` is a problem too.
    """
    return assemble(
        ((path, _parsed(data, path)) for path, data in files if is_block_path(path)),
        root,
        commit,
        strict_paths=strict_paths,
    )


def assemble(
    parsed: Iterable[tuple[str, Block | BlockError]], root: str, commit: str | None, *, strict_paths: bool = True
) -> tuple[Snapshot, list[BlockError]]:
    """`scan` for files already parsed elsewhere (e.g. from a cache keyed by blob id): (path, block or error)."""
    blocks: dict[str, Block] = {}
    paths: dict[str, str] = {}
    problems: list[BlockError] = []
    for path, block in parsed:
        if isinstance(block, BlockError):
            problems.append(block)
            continue
        if block.id in blocks:
            problems.append(DuplicateId(path, block.id, paths[block.id]))
            continue
        if strict_paths and path != (expected := f"{root}/{block_relpath(block)}"):
            problems.append(BlockError(path, f"block {block.id} should live at {expected}"))
        blocks[block.id] = block
        paths[block.id] = path
    return Snapshot(commit, blocks, paths), problems


def _parsed(data: bytes, path: str) -> Block | BlockError:
    try:
        return parse(data, path)
    except BlockError as exc:
        return exc


def load(files: Iterable[tuple[str, bytes]], root: str, commit: str | None) -> Snapshot:
    """Like `scan`, but a malformed or duplicate block is an error (exit 2), named by file."""
    snapshot, problems = scan(files, root, commit, strict_paths=False)
    if problems:
        raise problems[0]
    return snapshot
