"""`Memory(path)`: the library object behind every `mm` command."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindmem.errors import BadInput, BadParameter, BlockError, NotFound, StateError
from mindmem.store import blocks as b
from mindmem.store import config as cfg
from mindmem.store import gitdir, walk
from mindmem.store.allowed_signers import ALLOWED_SIGNERS, unparsable_signer_lines
from mindmem.store.blocks import Block
from mindmem.store.files import atomic_write, collector_paused
from mindmem.store.git import lazy
from mindmem.store.git.values import Person
from mindmem.store.listing import check_filters, filtered
from mindmem.store.parsed import ParsedBlocks
from mindmem.store.snapshot import Snapshot, assemble, is_block_path, load, scan
from mindmem.store.text import decode
from mindmem.store.worktree_blobs import block_blobs

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo

INIT_MESSAGE = "Initialize mindmem memory"
# (repository, environment, files init is about to write) -> (those files with the user listed as an approver,
# the principal they are listed as); `mm init --signing` passes `mindmem.governance.approvers.init_signer(fmt)`.
AddSigner = Callable[["GitRepo", Mapping[str, str], dict[str, bytes]], tuple[dict[str, bytes], str]]


@dataclass(frozen=True)
class InitResult:
    path: Path
    created: tuple[str, ...]
    commit: str | None
    git_initialized: bool
    signer: str | None = None  # the principal `add_signer` listed as an approver


class Memory:
    """A memory repo: its settings, its blocks at any revision, and the verbs on them."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None) -> None:
        self.env = dict(os.environ if env is None else env)
        start = Path(path or self.env.get("MM_REPO") or ".")
        # The facade loads libgit2 only when a command needs more than a few reads (`LazyRepo`).
        self.git = lazy.discover(start)
        config_path = self.git.workdir / cfg.CONFIG_FILE
        if not config_path.is_file():
            raise StateError(f"{self.git.workdir} is not a mindmem repo (no {cfg.CONFIG_FILE}); run `mm init`")
        # The work tree's config only points at the governed branch; what decides is committed there.
        worktree = cfg.parse_settings(config_path.read_bytes(), source=cfg.CONFIG_FILE)
        self.settings, self.overrides, self.config_branches = cfg.resolve_settings(
            worktree, self._committed_config, self.env, self.git.head_branch()
        )
        self.worktree_settings = worktree

    def _committed_config(self, branch: str) -> bytes | None:
        # Raw bytes: parse_settings decodes them by the one rule (bad UTF-8 is an error naming the branch).
        tip = self.git.branch_tip(branch)
        return self.git.read_file(tip, cfg.CONFIG_FILE) if tip else None

    # -- setup -------------------------------------------------------------

    @classmethod
    def init(
        cls,
        path: str | os.PathLike[str] = ".",
        *,
        root: str = "memory",
        mode: str = "propose",
        commit: bool = False,
        add_signer: AddSigner | None = None,
        env: Mapping[str, str] | None = None,
    ) -> InitResult:
        """Set up `.mindmem/` and the memory root in the repo at or above `path` (git init if none)."""
        from mindmem.store.repo import GitRepo

        env = dict(os.environ if env is None else env)
        cfg.check_root(root)
        if mode not in cfg.MODES:
            raise BadParameter(f"{{mode}} '{mode}' is not one of {', '.join(cfg.MODES)}")
        target = Path(path)
        if target.exists() and not target.is_dir():
            raise BadInput(f"{target} is a file, not a folder")
        # A folder that does not exist yet becomes its own repo, even inside another one (like `git init DIR`).
        is_new = not target.exists()
        target.mkdir(parents=True, exist_ok=True)
        try:
            git = None if is_new else GitRepo.discover(target)
        except StateError:
            git = None
        git_initialized = git is None
        if git is None:
            git = GitRepo.init(target)
        workdir = git.workdir
        if (workdir / cfg.CONFIG_FILE).exists():
            raise StateError(f"{workdir} is already a mindmem repo ({cfg.CONFIG_FILE} exists)")
        if commit and git.head_branch() is None:
            raise StateError("committing needs HEAD on a branch; check out a branch first")

        branch = git.head_branch() or "main"
        settings = cfg.Settings(root=root, mode=mode, governed_branch=branch)
        # Files a person already has (a memory/README.md, say) are theirs: never overwritten, never committed.
        files = {rel: data for rel, data in _init_files(settings).items() if not (workdir / rel).exists()}
        signer = None
        if add_signer is not None:
            files, signer = add_signer(git, env, files)
        # The commit that adds the config (this one with --commit, else the user's) opens governance.
        sha = git.commit_files(branch, files, INIT_MESSAGE + "\n", _person(git, env)) if commit else None
        for rel, data in files.items():
            atomic_write(workdir / rel, data)
        if commit:
            git.stage_paths(list(files))
        return InitResult(workdir, tuple(files), sha, git_initialized, signer)

    # -- reading -----------------------------------------------------------

    @property
    def workdir(self) -> Path:
        return self.git.workdir

    @property
    def root(self) -> str:
        return self.settings.root

    def governed_head(self) -> tuple[str, str | None]:
        """(ref, commit) of committed memory: the governed branch, or HEAD while that branch has no commit."""
        tip = self.git.branch_tip(self.settings.governed_branch)
        if tip is not None:
            return self.settings.governed_branch, tip
        return "HEAD", self.git.head_commit()

    def resolve_at(self, at: str) -> str:
        """The commit `--at` names: a revision, or a date (YYYY-MM-DD, or an ISO time) meaning the last
        first-parent commit of the governed branch (HEAD while it has none) at or before it.
        A bare date means the end of that day, UTC."""
        when = _parse_when(at)
        if when is None:
            return self.git.resolve(at)
        ref, tip = self.governed_head()
        if tip is None:
            raise NotFound("nothing is committed yet, so there is no memory as of any date")
        stamp = when.timestamp()
        for commit in self.git.walk(tip, first_parent=True):
            if commit.time <= stamp:
                return commit.sha
        raise NotFound(f"no commit on {ref} at or before {at}; its history starts later")

    def snapshot(self, at: str | None = None) -> Snapshot:
        """All blocks in the work tree (`at=None`) or at a revision or date (see `resolve_at`), from git objects.

        Blocks come from the parsed-block store (`parsed.py`) by blob id, so only new content is parsed;
        a malformed or duplicate block is an error (exit 2), named by file."""
        commit, entries, read = self.blobs(at)
        cache = ParsedBlocks(gitdir.blocks_cache(self.git))
        snap, problems = assemble(cache.parsed(entries, read), self.root, commit, strict_paths=False)
        cache.save(whole_tree=True)
        if problems:
            raise problems[0]
        return snap

    def blobs(self, at: str | None = None) -> tuple[str | None, list[tuple[str, str]], Callable[[str], bytes]]:
        """(the commit, None for the work tree; (path, blob id) of each block file; a reader of those
        blobs by id), without reading the blocks that git or the stat store already know."""
        if at is None:
            folder = gitdir.blocks_cache(self.git)
            entries, read = block_blobs(str(self.workdir), self.root, self.settings.max_block_bytes, folder, self.git)
            return None, entries, read
        commit = self.resolve_at(at)
        entries = sorted(p for p in self.git.tree_blobs(commit, self.root).items() if is_block_path(p[0]))
        return commit, entries, self.git.read_blob

    def get(self, block_id: str, at: str | None = None) -> Block:
        return self.lookup(block_id, at)[0]

    def lookup(self, block_id: str, at: str | None = None) -> tuple[Block, Snapshot]:
        """The block and the snapshot it was read from (for its path and commit)."""
        b.check_id(block_id)
        snap = self.snapshot(at)
        if block_id not in snap.blocks:
            where = f"at {at}" if at else "in the work tree"
            raise NotFound(f"no block {block_id} {where}")
        return snap.blocks[block_id], snap

    def list(
        self,
        *,
        type: str | None = None,
        status: str | None = None,
        tag: str | None = None,
        at: str | None = None,
    ) -> list[Block]:
        """The blocks that pass the filters, oldest first (`listing.listing` gives their rows, cheaper)."""
        check_filters(type, status)
        found = filtered(self.snapshot(at).blocks.values(), type, status, tag)
        with collector_paused():  # a key tuple per block
            return sorted(found, key=lambda blk: (blk.created, blk.id))

    def validate(self) -> tuple[int, list[BlockError]]:
        """Schema problems of every block file in the work tree: (blocks read, problems).

        Symlinks, FIFOs, devices and oversized files under the memory root are problems too (never read).
        """
        files, unread = [], []
        for path, data in walk.tree(str(self.workdir), self.root, self.settings.max_block_bytes):
            if isinstance(data, BlockError):
                unread.append(data)
            elif is_block_path(path):
                files.append((path, data))
        return len(files) + len(unread), unread + scan(files, self.root, None)[1] + self._signer_problems()

    def _signer_problems(self) -> list[BlockError]:
        """allowed_signers lines that do not parse (signature checks skip them, dropping an approver unseen)."""
        try:
            data = walk.read_regular(self.workdir / ALLOWED_SIGNERS, ALLOWED_SIGNERS, self.settings.max_block_bytes)
        except walk.Vanished:
            return []
        except BlockError as exc:
            return [exc]
        return [
            BlockError(ALLOWED_SIGNERS, f"not an allowed_signers line: {why}", number)
            for number, why in unparsable_signer_lines(data)
        ]

    def path_of(self, block: Block) -> Path:
        return self.workdir / self.root / b.block_relpath(block)

    # -- writing the work tree ------------------------------------------------

    def new(
        self,
        kind: str,
        *,
        title: str,
        body: str | None = None,
        fields: Mapping[str, Any] | None = None,
        edges: list[tuple[str, str]] | None = None,
        block_id: str | None = None,
    ) -> Block:
        """Write a new canonical block file into the work tree and return it."""
        from mindmem.store.changes import new_block, resolve_kind

        block_type, _ = resolve_kind(kind)
        snap = self.snapshot()
        if block_id in snap:
            raise BadInput(f"block {block_id} already exists at {snap.paths[block_id]}")
        text = self.template(block_type) if body is None else body
        block = new_block(
            kind,
            title=title,
            # The file is named by ID; Obsidian shows a note by its first alias, so that is the title.
            fields={"aliases": [title], **(fields or {})},
            edges=edges or [],
            author=self.author(),
            when=b.now_utc(),
            taken=snap.__contains__,
            body=text,
            block_id=block_id,
            root=self.root,
        )
        relpath = f"{self.root}/{b.block_relpath(block)}"
        walk.check_write_target(self.workdir, relpath)
        data = b.render(block).encode()
        if len(data) > self.settings.max_block_bytes:
            raise BadInput(f"{relpath}: block would be {len(data)} bytes; the limit is {self.settings.max_block_bytes}")
        target = self.workdir / relpath
        if target.exists():
            raise BadInput(f"{relpath} already exists")
        atomic_write(target, data)
        return block

    def fmt(self, *, check: bool = False) -> list[str]:
        """Rewrite block files into canonical form; return the paths that were (or would be) changed.

        Every file is parsed before any is written, so a bad file leaves everything as it was.
        """
        files = dict(self.worktree_files())
        snap = load(files.items(), self.root, None)  # raises on the first bad or duplicate block
        pending = []
        for block_id, path in snap.paths.items():
            canonical = b.render(snap.blocks[block_id]).encode()
            if canonical != files[path]:
                pending.append((path, canonical))
        if not check:
            for path, canonical in pending:
                atomic_write(self.workdir / path, canonical)
        return [path for path, _ in pending]

    # -- helpers -------------------------------------------------------------

    def author(self) -> str:
        return self.person().name

    def person(self) -> Person:
        """Who is acting: the user config's author, else git's user.name and user.email."""
        return _person(self.git, self.env)

    def template(self, block_type: str) -> str:
        rel = f"{cfg.CONFIG_DIR}/templates/{block_type}.md"
        local = self.workdir / rel
        if not os.path.lexists(local):
            return _packaged_template(block_type)
        if walk.linked_component(self.workdir, rel):
            raise BadInput(f"{rel} is (or is inside) a symlink; mm reads templates only from the repository")
        try:
            return decode(walk.read_regular(local, rel, self.settings.max_block_bytes), rel)
        except BlockError as exc:
            raise BadInput(str(exc)) from None
        except walk.Vanished:
            return _packaged_template(block_type)

    def worktree_files(self, folder: str | None = None) -> Iterator[tuple[str, bytes]]:
        """(repo-relative path, bytes) of every regular file under `folder` (default: the memory root).

        Symlinks are left out, as in commits, and so are files that vanish while listed (another process's
        approve removed them); a block file that is a FIFO, a device or too big is an error. `validate`
        reports all of these.
        """
        for path, data in walk.tree(str(self.workdir), folder or self.root, self.settings.max_block_bytes):
            if isinstance(data, walk.Linked):
                continue
            if isinstance(data, BlockError):
                if is_block_path(path):
                    raise data
                continue
            yield path, data


def _parse_when(text: str) -> datetime | None:
    """`--at` as a moment, when it is a date or an ISO time rather than a revision."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise BadParameter(f"{{at}} {text}: not a valid date") from None
        return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", text):
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise BadParameter(f"{{at}} {text}: not a valid ISO time") from None
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _person(git: GitRepo, env: Mapping[str, str]) -> Person:
    user = cfg.user_config(env)
    name = user.get("author") or git.config_value("user.name") or env.get("USER") or "unknown"
    email = git.config_value("user.email") or "unknown@mindmem.invalid"
    return Person(name, email)


def _packaged_template(block_type: str) -> str:
    return resources.files("mindmem").joinpath("templates", "blocks", f"{block_type}.md").read_text("utf-8")


def _init_files(settings: cfg.Settings) -> dict[str, bytes]:
    files = {
        cfg.CONFIG_FILE: cfg.render_settings(settings).encode(),
        ALLOWED_SIGNERS: (
            b"# Who may sign approvals: one `principal key-type key` line each (ssh allowed_signers format).\n"
        ),
        f"{settings.root}/README.md": (
            b"# Memory\n\nEach Markdown file below this folder is one memory block. "
            b"Use `mm new`, `mm list` and `mm show`; see the mindmem docs for the format.\n"
        ),
    }
    for block_type in b.TYPES:
        files[f"{cfg.CONFIG_DIR}/templates/{block_type}.md"] = _packaged_template(block_type).encode()
        files[f"{settings.root}/{b.TYPE_DIRS[block_type]}/.gitkeep"] = b""
    return files
