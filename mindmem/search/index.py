"""The whoosh index of committed memory, kept in step with git.

Layout, under `<git common dir>/mindmem/index/` (derived data, never committed):

    current/          the index of the branch recall answers from (see `target`)
    at/<sha>/         cached indexes of older commits for `--at`, least recently used evicted
    lock              held while anything under index/ is written

Each index folder holds the whoosh files and `state.json`: the commit it reflects,
the format version, the memory root and the document count. `state.json` is written
only after whoosh has committed, so a crash in between leaves an index that is
merely behind (the next catch-up applies the same changes again, which is harmless)
or whose count disagrees (it is rebuilt). Anything unreadable is rebuilt, never trusted.

`catch_up(memory)` is the one function that brings the index up to date: it diffs
the indexed commit against the target commit over the memory root and re-indexes
only the block files that changed. The tool calls it after its own commits; the git
hooks call it after commits made with git itself; recall calls it before answering.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import re
import shutil
import socket
import time
import uuid
import warnings
from array import array
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import index as wix
from whoosh.analysis import Filter, StemmingAnalyzer
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.query import Term
from whoosh.query.compound import DefaultOr
from whoosh.scoring import BM25F

from mindmem.errors import BadInput, BlockError, NotFound, StateError
from mindmem.search import ranking
from mindmem.store import gitdir
from mindmem.store.blocks import ID_IN_TEXT_RE, TYPE_PREFIXES, Block, parse
from mindmem.store.files import atomic_write
from mindmem.store.snapshot import is_block_path

if TYPE_CHECKING:
    from whoosh.searching import Searcher

    from mindmem.store.memory import Memory

# Bump when the schema or what goes into a field changes: older indexes are then rebuilt.
FORMAT_VERSION = 7
STATE_FILE = "state.json"
AT_CACHE_SIZE = 8
# A lock older than this (its holder refreshes it while working) or held by a dead pid is broken.
LOCK_STALE_SECONDS = 600
LOCK_WAIT_SECONDS = 120
MAX_QUERY_CHARS = 4000
# Postings whose scores an open index keeps between queries (about 12 bytes each).
POSTINGS_CACHE = 2_000_000
MAX_QUERY_TERMS = 64

_ENTITY_PREFIXES = TYPE_PREFIXES["entity"]
# Outside references such as incident tickets (INC-1234, OPS-42) are entities too.
_TICKET_RE = re.compile(r"\b[A-Z][A-Z0-9]{1,9}-\d+\b")
_WORD_RE = re.compile(r"[A-Za-z][\w'-]*")
_SENTENCE_RE = re.compile(r"(?<=[.!?:;])\s+|\n+")
# Capitalised words that are not names even in the middle of a sentence.
_NOT_NAMES_TEXT = (
    "i i'm i've we we're you they he she it our my your their the a an this that these those and or but if then "
    "also what who whom whose when where why how which did does do is are was were can should could would will "
    "yes no not none"
)
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())
# Words that shape a question but say nothing about what to find ("what did she say about X"): left
# out of the query's text terms. The index keeps them (a block may quote them); only queries skip them.
# "done" and "doing" stay: in a memory they are task states people search for.
_QUESTION_FUNCTION_WORDS = (
    "what which who whom whose where why how did does do was were has had would could should might "
    "shall i me my mine he him his she her hers they them their theirs its our ours there any some ever "
    "about tell know"
)

_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
_PERIODS = "morning afternoon evening night week weekend month year spring summer autumn fall winter"
_TIME_RE = re.compile(
    rf"\b(?:yesterday|today|tonight|tomorrow|\d+ (?:days?|weeks?|months?|years?) ago|"
    rf"(?:last|next|this|that) (?:{'|'.join((_PERIODS + ' ' + _DAYS).split())})|"
    rf"(?:{'|'.join(_MONTHS.split())})|(?:{'|'.join(_DAYS.split())})s?|"
    rf"(?:19|20)\d\d(?:-\d\d-\d\d)?)\b",
    re.IGNORECASE,
)


class PrefixFilter(Filter):
    """Also yields a stemmed word without a common prefix ("overcharg" gives "charg" too), so "charged
    twice" finds "overcharged" and "misconfigured" finds "configured"."""

    # Few and long enough to be safe: "re" or "un" would turn "report" into "port", "until" into "til".
    PREFIXES = ("over", "mis")

    def __call__(self, tokens: Iterable[Any]) -> Iterable[Any]:
        prefixes = self.PREFIXES
        for token in tokens:
            yield token
            text = token.text
            if text.startswith(prefixes):  # one C call for the common case: no prefix
                rest = text[len(next(p for p in prefixes if text.startswith(p))) :]
                if len(rest) >= 5:
                    token.text = rest
                    yield token


TEXT_ANALYZER = StemmingAnalyzer() | PrefixFilter()
_QUERY_SKIP = frozenset(t.text for t in TEXT_ANALYZER(_QUESTION_FUNCTION_WORDS, removestops=False))


def schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        path=ID(stored=True, unique=True),
        type=ID(stored=True),
        status=ID(stored=True),
        title=TEXT(stored=True, analyzer=TEXT_ANALYZER, phrase=False),
        headings=TEXT(analyzer=TEXT_ANALYZER, phrase=False),
        body=TEXT(analyzer=TEXT_ANALYZER, phrase=False),
        tags=KEYWORD(lowercase=True, commas=True, scorable=True),
        entities=KEYWORD(lowercase=True, scorable=True),
        # The entities a block is about: its subject, its constraint's scope, itself if an entity.
        about=KEYWORD(lowercase=True, scorable=True),
        # What kind of answer the text can give: "time" when it says when something happened.
        cues=KEYWORD(),
        subject=ID(stored=True),
        # "edge_type:target" and the bare target, for reverse lookups ("who supersedes X?").
        links=KEYWORD(stored=True),
        # Body wiki links, kept so reading a block back never re-runs markdown-it to find them.
        wiki=STORED(),
        # The git blob the document was made from: reading the block back is one object lookup.
        blob=STORED(),
        created=DATETIME(stored=True),
        valid_from=DATETIME(stored=True),
        valid_to=DATETIME(stored=True),
        expires=DATETIME(stored=True),
        due=DATETIME(stored=True),
    )


# -- what goes into the index (pure) ---------------------------------------------


def document(block: Block, path: str) -> dict[str, Any]:
    """The whoosh document for a block: markdown headings apart from the body text, entities, links, dates."""
    headings, text = sections(block.body)
    links = [token for edge_type, target in block.all_edges() for token in (f"{edge_type}:{target}", target)]
    doc: dict[str, Any] = {
        "id": block.id,
        "path": path,
        "type": block.type,
        "status": block.status,
        "title": block.title,
        "headings": "\n".join([*headings, *statement_words(block)]),
        "body": "\n".join(text),
        "tags": ",".join(block.tags),
        "entities": " ".join(block_entities(block)),
        "about": " ".join(about_entities(block)),
        "cues": "time" if _TIME_RE.search(f"{block.title}\n{block.body}") else "",
        "links": " ".join(dict.fromkeys(links)),
        "wiki": " ".join(block.wiki_links),
        "created": utc(block.created),
    }
    if block.subject:
        doc["subject"] = block.subject
    for key in ("valid_from", "valid_to", "expires", "due"):
        value = getattr(block, key)
        if value:
            doc[key] = utc(value)
    return doc


def statement_words(block: Block) -> list[str]:
    """The structured claim of a block in words (a constraint's axis and object, a fact's predicate and
    object), so "storage engine" finds the decision whose constraint is on `storage.engine`."""
    parts = [block.predicate or "", block.obj or ""]
    if block.constraint is not None:
        parts += [block.constraint.axis, block.constraint.obj]
    return [re.sub(r"[._]+", " ", p) for p in parts if p]


def sections(body: str) -> tuple[list[str], list[str]]:
    """(headings, other text) of a Markdown body, parsed with markdown-it-py; code is kept as text."""
    if not body:
        return [], []
    from markdown_it import MarkdownIt

    headings: list[str] = []
    text: list[str] = []
    in_heading = False
    for token in MarkdownIt("commonmark").parse(body):
        if token.type == "heading_open":
            in_heading = True
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "inline" or token.type in ("fence", "code_block"):
            (headings if in_heading else text).append(token.content)
    return headings, text


def block_entities(block: Block) -> list[str]:
    """Entity terms of a block: its own ID and name if it is an entity, its subject and scope, the entity IDs
    it links to, IDs in its text, and capitalised names; all lowercase."""
    texts = [block.title, block.body]
    ids = [block.subject or "", *(t for _, t in block.all_edges() if t.split("-", 1)[0] in _ENTITY_PREFIXES)]
    if block.constraint is not None:
        ids.append(block.constraint.scope)
    if block.type == "entity":
        ids.append(block.id)
        # An entity's title and aliases are names even at the start of a sentence.
        ids += [word for name in (block.title, *block.aliases) for word in _WORD_RE.findall(name)]
    return list(dict.fromkeys(t for t in (*_id_terms(ids), *entity_terms(" \n".join(texts))) if t))


def about_entities(block: Block) -> list[str]:
    """Entity terms of who or what the block is about, lowercase: its subject, constraint scope, the
    entity itself, and the words of its author's name (who said something is a signal, as the subject is)."""
    ids = [block.subject or ""]
    if block.constraint is not None:
        ids.append(block.constraint.scope)
    if block.type == "entity":
        ids.append(block.id)
    author = [w.lower() for w in _WORD_RE.findall(block.author or "") if w.lower() not in _NOT_NAMES]
    return list(dict.fromkeys([*_id_terms(ids), *author]))


def entity_terms(text: str) -> list[str]:
    """Entity terms in free text (a block or a query): block IDs and capitalised names, lowercase.

    A capitalised word counts as a name unless it starts a sentence; CamelCase and ALLCAPS words
    (PostgreSQL, AWS) count everywhere.
    """
    found = _id_terms(ID_IN_TEXT_RE.findall(text)) + [t.lower() for t in _TICKET_RE.findall(text)]
    for sentence in _SENTENCE_RE.split(text):
        for position, word in enumerate(_WORD_RE.findall(sentence)):
            # A possessive names the same entity: "Alice's" is alice.
            word = re.sub(r"['’]s$", "", word)
            if word.lower() in _NOT_NAMES or not word[0].isupper():
                continue
            if position > 0 or any(ch.isupper() for ch in word[1:]):
                found.append(word.lower())
    return list(dict.fromkeys(found))


def _id_terms(ids: Iterable[str]) -> list[str]:
    """An ID as a term, plus the words of an entity slug (PER-alice-smith -> alice, smith) so names match."""
    out: list[str] = []
    for block_id in ids:
        if not block_id:
            continue
        out.append(block_id.lower())
        prefix, _, slug = block_id.partition("-")
        if prefix in _ENTITY_PREFIXES:
            out += slug.lower().split("-")
    return out


def analyze(text: str) -> list[str]:
    """The stemmed terms the text fields hold for `text`, in order, without repeats."""
    return list(dict.fromkeys(token.text for token in TEXT_ANALYZER(text)))


def query_terms(text: str) -> list[str]:
    """The stemmed terms a query searches the text fields for: `analyze` less the words that only
    shape a question (what, did, how, her ...)."""
    return [t for t in analyze(text) if t not in _QUERY_SKIP]


def utc(text: str) -> datetime:
    """A naive UTC datetime for whoosh, from an ISO date or time."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def index_root(memory: Memory) -> Path:
    """Where the index folders live (the git common dir: every worktree shares them)."""
    return gitdir.index(memory.git)


# -- status ----------------------------------------------------------------------


@dataclass(frozen=True)
class IndexStatus:
    """What an index reflects and what the last catch-up did.

    `ref`/`target`: the branch recall answers from and its commit; `indexed`: the commit the
    index reflects; `fresh` when they agree. `reindexed`/`removed` count the documents the last
    catch-up wrote and deleted; `reason` says why a rebuild happened (or, for `status`, is due).
    """

    path: str
    ref: str | None
    target: str | None
    head: str | None
    indexed: str | None
    fresh: bool
    documents: int
    format: int = FORMAT_VERSION
    rebuilt: bool = False
    reason: str | None = None
    reindexed: int = 0
    removed: int = 0
    skipped: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "skipped": list(self.skipped)}


def target(memory: Memory) -> tuple[str | None, str | None]:
    """(ref, commit) recall answers from: the governed branch, or HEAD while that branch does not exist.

    Recall answers from committed, governed memory so that what an agent is told does not depend on
    which branch happens to be checked out, and unapproved proposals never leak into answers.
    """
    return memory.governed_head()


def status(memory: Memory) -> IndexStatus:
    """The state of the current index, without changing anything."""
    folder = index_root(memory) / "current"
    ref, sha = target(memory)
    state = _read_state(folder)
    reason = _rebuild_reason(memory, folder, state)
    indexed = None if reason else state["commit"]
    return IndexStatus(
        path=str(folder),
        ref=ref,
        target=sha,
        head=memory.git.head_commit(),
        indexed=indexed,
        fresh=reason is None and indexed == sha,
        documents=0 if reason else state["documents"],
        reason=reason,
        skipped=() if reason else tuple(state["skipped"]),
    )


Progress = Callable[[int, int], None]


def catch_up(memory: Memory, *, rebuild: bool = False, progress: Progress | None = None) -> IndexStatus:
    """Bring the current index to the target commit; re-index only the block files that changed.

    A full rebuild happens only when asked, or when the index is missing, from another format
    version or memory root, unreadable, or reflects a commit this repository no longer has.
    Safe to call from any number of processes at once: writers take turns through the lock.
    """
    folder = index_root(memory) / "current"
    if not rebuild:
        # The common case: a small file read and a look at the whoosh table of contents, no lock.
        now = status(memory)
        if now.fresh:
            return now
    with IndexLock(index_root(memory) / "lock") as lock:
        _, sha = target(memory)
        state = _read_state(folder)
        reason = "asked for a rebuild" if rebuild else _rebuild_reason(memory, folder, state)
        if reason or (sha is None and state["commit"] is not None):
            counts = _build(memory, folder, sha, lock, progress)
        elif state["commit"] == sha:
            counts = (0, 0)  # another process caught up while we waited for the lock
        else:
            counts = _update(memory, folder, state, sha, progress)
    return _with(status(memory), rebuilt=bool(reason), reason=reason, reindexed=counts[0], removed=counts[1])


def rebuild(memory: Memory, progress: Progress | None = None) -> IndexStatus:
    """Rebuild the current index from scratch (`mm index rebuild`)."""
    return catch_up(memory, rebuild=True, progress=progress)


def _with(result: IndexStatus, **changes: Any) -> IndexStatus:
    return IndexStatus(**{**asdict(result), **changes})


# -- reading and writing index folders ---------------------------------------------


def _read_state(folder: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    keys = {"format": int, "commit": (str, type(None)), "root": str, "documents": int, "skipped": list}
    if not isinstance(state, dict) or not all(isinstance(state.get(k), t) for k, t in keys.items()):
        return None
    return state


def _rebuild_reason(memory: Memory, folder: Path, state: dict[str, Any] | None) -> str | None:
    """Why the index in `folder` cannot be trusted and must be rebuilt, or None when it can be caught up."""
    if state is None:
        return "no index yet" if not folder.exists() else "index state missing or unreadable"
    if state["format"] != FORMAT_VERSION:
        return f"index format {state['format']}, this mm writes {FORMAT_VERSION}"
    if state["root"] != memory.root:
        return f"memory root changed from {state['root']!r} to {memory.root!r}"
    if state["commit"] is not None and not _known(memory, state["commit"]):
        return f"indexed commit {state['commit'][:12]} is no longer in the repository"
    count = _count(folder)
    if isinstance(count, str):
        return count
    if count != state["documents"]:
        return f"index holds {count} documents, its state says {state['documents']}"
    return None


def _count(folder: Path) -> int | str:
    """The number of documents in the index, or why its files cannot be read."""
    with warnings.catch_warnings():
        # whoosh leaves a file open when a damaged index fails to load; it closes once the error is dropped.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return _doc_count(_open(folder))
        except Exception as exc:  # any failure to read derived data means: rebuild it, never trust it
            return f"index files unreadable ({type(exc).__name__})"


@lru_cache(maxsize=16)
def _doc_count(ix: wix.FileIndex) -> int:
    # Opens every segment (which is also what proves the files readable); `_open` hands out one object
    # per table of contents, so the answer is computed once per index state.
    return ix.doc_count()


def _known(memory: Memory, sha: str) -> bool:
    try:
        return memory.git.resolve(sha) == sha
    except NotFound:
        return False


_TOC_RE = re.compile(r"^_MAIN_(\d+)\.toc$")


@lru_cache(maxsize=16)
def _open_cached(folder: str, generation: int, toc_stamp: tuple[int, int]) -> wix.FileIndex:
    return wix.open_dir(folder)


def _open(folder: Path) -> wix.FileIndex:
    """Open an index folder, reusing the open index while its table of contents is the same file."""
    # Whoosh names each committed generation's table of contents _MAIN_<n>.toc; the highest is current.
    generations = [int(m[1]) for m in map(_TOC_RE.match, os.listdir(folder) if folder.is_dir() else ()) if m]
    if not generations:
        raise StateError(f"no whoosh index in {folder}")
    generation = max(generations)
    toc = (folder / f"_MAIN_{generation}.toc").stat()
    return _open_cached(str(folder), generation, (toc.st_ino, toc.st_mtime_ns))


def _build(
    memory: Memory, folder: Path, sha: str | None, lock: IndexLock, progress: Progress | None
) -> tuple[int, int]:
    """Index every block at `sha` into a fresh folder, then swap it in place of `folder`."""
    _sweep(folder)
    fresh = folder.with_name(f"{folder.name}.new-{uuid.uuid4().hex[:8]}")
    fresh.mkdir(parents=True)
    try:
        ix = wix.create_in(str(fresh), schema())
        files = [] if sha is None else [(p, d) for p, d in memory.git.iter_files(sha, memory.root) if is_block_path(p)]
        written, _, skipped = _write(memory, ix, files, set(), lock, progress)
        _write_state(fresh, memory, sha, ix.doc_count(), skipped)
        _swap(fresh, folder)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return written, 0


def _update(
    memory: Memory, folder: Path, state: dict[str, Any], sha: str, progress: Progress | None
) -> tuple[int, int]:
    """Apply the block files that changed between the indexed commit and `sha` (any two commits)."""
    if state["commit"] is None:
        changed: Iterable[tuple[str, bytes | None]] = memory.git.iter_files(sha, memory.root)
    else:
        changes = memory.git.changed_paths(state["commit"], sha, memory.root)
        changed = ((path, new) for path, (_, new) in sorted(changes.items()))
    files = [(path, data) for path, data in changed if is_block_path(path)]
    ix = _open(folder)
    written, removed, skipped = _write(memory, ix, files, set(state["skipped"]), None, progress)
    _write_state(folder, memory, sha, ix.doc_count(), skipped)
    return written, removed


def _write(
    memory: Memory,
    ix: wix.FileIndex,
    files: list[tuple[str, bytes | None]],
    skipped: set[str],
    lock: IndexLock | None,
    progress: Progress | None,
) -> tuple[int, int, set[str]]:
    """Delete the documents of `files` and add what each holds now; (written, removed, unparseable paths)."""
    if not files:
        return 0, 0, skipped
    written = removed = 0
    writer = ix.writer(timeout=LOCK_WAIT_SECONDS, limitmb=256)
    try:
        for done, (path, data) in enumerate(files, 1):
            writer.delete_by_term("path", path)
            skipped.discard(path)
            block = None
            if data is not None:
                try:
                    block = parse(data, path)
                except BlockError:
                    # A broken block is reported by `mm validate`/checks; recall still answers from the rest.
                    skipped.add(path)
            if block is None:
                removed += 1
            else:
                writer.update_document(**document(block, path), blob=memory.git.blob_sha(data))
                written += 1
            if progress is not None and (done % 200 == 0 or done == len(files)):
                progress(done, len(files))
            if lock is not None and done % 1000 == 0:
                lock.refresh()
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    return written, removed, skipped


def _write_state(folder: Path, memory: Memory, sha: str | None, documents: int, skipped: set[str]) -> None:
    state = {"format": FORMAT_VERSION, "commit": sha, "root": memory.root, "documents": documents}
    atomic_write(folder / STATE_FILE, json.dumps({**state, "skipped": sorted(skipped)}, indent=1).encode())


def _sweep(folder: Path) -> None:
    """Remove what a killed build or swap of `folder` left behind (only lock holders create these)."""
    if folder.parent.is_dir():
        for leftover in folder.parent.glob(f"{folder.name}.[no][el][wd]-*"):
            shutil.rmtree(leftover, ignore_errors=True)


def _swap(fresh: Path, folder: Path) -> None:
    """Put `fresh` where `folder` is. Readers with open searchers keep reading the old files meanwhile."""
    old = folder.with_name(f"{folder.name}.old-{uuid.uuid4().hex[:8]}")
    if folder.exists():
        os.rename(folder, old)
    os.rename(fresh, folder)
    shutil.rmtree(old, ignore_errors=True)


# -- indexes of older commits (--at) -------------------------------------------------


def resolve_at(memory: Memory, at: str) -> str:
    """The commit `--at` names (a revision or a date): see `Memory.resolve_at`."""
    return memory.resolve_at(at)


def at_folder(memory: Memory, sha: str) -> Path:
    """An index of memory as of commit `sha`: built once (from the current index plus the diff when
    there is one), then reused; only the AT_CACHE_SIZE most recently used are kept."""
    root = index_root(memory)
    folder = root / "at" / sha
    if _usable(memory, folder, sha):
        os.utime(folder / STATE_FILE)
        return folder
    with IndexLock(root / "lock") as lock:
        if not _usable(memory, folder, sha):
            current = root / "current"
            state = _read_state(current)
            if _rebuild_reason(memory, current, state) is None and state["commit"] is not None:
                _sweep(folder)
                work = folder.with_name(f"{sha}.new-{uuid.uuid4().hex[:8]}")
                try:
                    shutil.copytree(current, work)
                    _update(memory, work, state, sha, None)
                    _swap(work, folder)
                except BaseException:
                    shutil.rmtree(work, ignore_errors=True)
                    raise
            else:
                _build(memory, folder, sha, lock, None)
        _evict(root / "at", keep=sha)
    return folder


def _usable(memory: Memory, folder: Path, sha: str) -> bool:
    state = _read_state(folder)
    return _rebuild_reason(memory, folder, state) is None and state["commit"] == sha


def _evict(folder: Path, keep: str) -> None:
    cached = sorted(
        (p for p in folder.iterdir() if "." not in p.name and (p / STATE_FILE).exists() and p.name != keep),
        key=lambda p: (p / STATE_FILE).stat().st_mtime,
        reverse=True,
    )
    for stale in cached[AT_CACHE_SIZE - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)


# -- reading: what recall uses ---------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    """A stored index document: enough to show a result without reading the block."""

    id: str
    type: str
    status: str
    title: str
    path: str
    created: str
    score: float = 0.0
    wiki: tuple[str, ...] = ()
    blob: str = ""


def open_view(memory: Memory, at: str | None = None, progress: Progress | None = None) -> IndexView:
    """A view for answering queries: the current index after catching up, or (`at`) memory as of a commit."""
    if at is None:
        result = catch_up(memory, progress=progress)
        if result.target is None:
            raise StateError("nothing is committed yet: recall answers from committed memory; commit some blocks")
        return _view(memory, index_root(memory) / "current", result.target)
    sha = resolve_at(memory, at)
    current = catch_up(memory, progress=progress)
    if sha == current.target:
        return _view(memory, index_root(memory) / "current", sha)
    return _view(memory, at_folder(memory, sha), sha)


_VIEWS: dict[str, IndexView] = {}


def _view(memory: Memory, folder: Path, sha: str) -> IndexView:
    # One open searcher per index folder: a process answering many queries pays the open once.
    ix = _open(folder)
    view = _VIEWS.get(str(folder))
    if view is None or view.ix is not ix or view.commit != sha:
        if view is not None:
            view.close()
        view = _VIEWS[str(folder)] = IndexView(memory, ix, sha)
    return view


class IndexView:
    """Read-only lookups over one index, at one commit."""

    def __init__(self, memory: Memory, ix: wix.FileIndex, commit: str) -> None:
        self.ix = ix
        self.commit = commit
        self.git = memory.git
        self.searcher: Searcher = ix.searcher(weighting=BM25F())
        self._blocks: dict[str, Block] = {}
        self._docsets: dict[tuple[str, tuple[str, ...]], set[int]] = {}
        # (field, term) -> (document numbers, BM25F scores at boost 1), least recently used first.
        self._postings: OrderedDict[tuple[Any, ...], tuple[array[int], array[float]]] = OrderedDict()
        self._cached_postings = 0
        self._field_lengths: dict[str, tuple[array[float], float]] = {}
        self.documents = self.searcher.doc_count()
        self._fields: dict[int, dict[str, Any]] = {}

    def close(self) -> None:
        self.searcher.close()

    def search(
        self,
        text: str,
        *,
        limit: int,
        types: Collection[str] | None = None,
        hide: Collection[str] = (),
        weights: ranking.Weights = ranking.DEFAULT,
    ) -> list[Doc]:
        """Ranked documents for free text, scored as `mindmem.search.ranking` describes.

        Each term's scores are computed once per view and kept: queries in one process share most
        of their terms, and summing cached arrays is several times faster than re-reading postings.
        """
        totals: dict[int, float] = {}
        for key, weight in query_signals(text, weights):
            for docnum, score in zip(*self._scores(key, weights), strict=True):
                totals[docnum] = totals.get(docnum, 0.0) + weight * score
        if totals and ranking.asks_when(text) and weights.time_prior:
            for docnum in self._docnums("cues", "time"):
                if docnum in totals:
                    totals[docnum] *= 1 + weights.time_prior
        keep, drop = self._docset("type", types), self._docset("status", hide)
        found = (
            (docnum, score)
            for docnum, score in totals.items()
            if (keep is None or docnum in keep) and (drop is None or docnum not in drop)
        )
        top = heapq.nsmallest(limit, found, key=lambda hit: (-hit[1], hit[0]))
        return [self._stored(docnum, score) for docnum, score in top]

    def _scores(self, key: tuple[str, str], weights: ranking.Weights) -> tuple[array[int], array[float]]:
        """(document numbers, scores) of one signal: ("text", term) is BM25F over the text fields;
        (field, term) of a keyword field is that term's idf where present (a bounded bonus)."""
        cache_key = (*key, weights) if key[0] == "text" else key
        found = self._postings.get(cache_key)
        if found is not None:
            self._postings.move_to_end(cache_key)
            return found
        field, term = key
        if field == "text":
            found = self._bm25f(term, weights)
        else:
            docnums = self._docnums(field, term)
            found = (docnums, array("d", [ranking.idf(self.documents, len(docnums))] * len(docnums)))
        self._postings[cache_key] = found
        self._cached_postings += len(found[0])
        while self._cached_postings > POSTINGS_CACHE and len(self._postings) > 1:
            _, (old, _) = self._postings.popitem(last=False)
            self._cached_postings -= len(old)
        return found

    def _bm25f(self, term: str, weights: ranking.Weights) -> tuple[array[int], array[float]]:
        combined: dict[int, float] = {}
        for field in ranking.TEXT_FIELDS:
            weight = weights.text(field)
            lengths, average = self._lengths(field)
            for docnum, tf in self._frequencies(field, term):
                norm = ranking.normalised(tf, lengths[docnum], average, weights.b)
                combined[docnum] = combined.get(docnum, 0.0) + weight * norm
        if not combined:
            return array("l"), array("d")
        weight = ranking.idf(self.documents, len(combined))
        docnums = array("l", sorted(combined))
        scores = array("d", (weight * ranking.saturate(combined[d], weights.k1) for d in docnums))
        return docnums, scores

    def _frequencies(self, field: str, term: str) -> Iterable[tuple[int, float]]:
        context = self.searcher.context()
        for leaf, offset in self.searcher.leaf_searchers():
            if (field, term) not in leaf.reader():
                continue
            matcher = Term(field, term).matcher(leaf, context)
            while matcher.is_active():
                yield matcher.id() + offset, matcher.weight()
                matcher.next()

    def _docnums(self, field: str, term: str) -> array[int]:
        """Documents holding `term` in `field` (cached like scores: reverse links are asked per query)."""
        key = ("#", field, term)
        found = self._postings.get(key)
        if found is None:
            docnums = array("l", (docnum for docnum, _ in self._frequencies(field, term)))
            found = self._postings[key] = (docnums, array("d"))
            self._cached_postings += len(docnums)
        return found[0]

    def _stored(self, docnum: int, score: float) -> Doc:
        fields = self._fields.get(docnum)
        if fields is None:
            fields = self._fields[docnum] = self.searcher.stored_fields(docnum)
        return _doc(fields, score)

    def _lengths(self, field: str) -> tuple[array[float], float]:
        """Every document's length in `field` (by document number) and the average length."""
        found = self._field_lengths.get(field)
        if found is None:
            lengths, total = array("d"), 0.0
            for leaf, _ in self.searcher.leaf_searchers():
                reader = leaf.reader()
                lengths.extend(reader.doc_field_length(n, field, 0) or 0 for n in range(reader.doc_count_all()))
                # Deleted documents (replaced by a catch-up) keep their numbers but not their lengths.
                total += sum(lengths[len(lengths) - reader.doc_count_all() + n] for n in reader.all_doc_ids())
            average = total / self.documents if self.documents else 0.0
            found = self._field_lengths[field] = (lengths, average)
        return found

    def _docset(self, field: str, values: Collection[str] | None) -> set[int] | None:
        """Document numbers with one of `values` in `field`, computed once per view (whoosh would per query)."""
        if not values:
            return None
        key = (field, tuple(sorted(values)))
        found = self._docsets.get(key)
        if found is None:
            found = self._docsets[key] = set(self.searcher.docs_for_query(_any(field, values)))
        return found

    def listing(self, types: Collection[str], statuses: Collection[str], limit: int) -> list[Doc]:
        """Documents of `types` in `statuses`, newest first (for questions that name a state, not words)."""
        found = (self._docset("type", types) or set()) & (self._docset("status", statuses) or set())
        docs = [self._stored(docnum, 0.0) for docnum in found]
        return sorted(docs, key=lambda d: (d.created, d.id), reverse=True)[:limit]

    def docs(self, ids: Iterable[str]) -> dict[str, Doc]:
        """Stored documents by block ID (IDs with no document are left out)."""
        out = {}
        for block_id in dict.fromkeys(ids):
            docnums = self._docnums("id", block_id)
            if docnums:
                out[block_id] = self._stored(docnums[0], 0.0)
        return out

    def linking(self, targets: Iterable[str], edge_type: str | None = None, limit: int | None = None) -> list[Doc]:
        """Documents with an edge (of `edge_type`, or any) to one of `targets`, at most `limit` of them."""
        terms = [f"{edge_type}:{t}" if edge_type else t for t in dict.fromkeys(targets)]
        found = sorted({docnum for term in terms for docnum in self._docnums("links", term)})
        return [self._stored(docnum, 0.0) for docnum in found[:limit]]

    def block(self, doc: Doc) -> Block:
        """The block behind a document, read from git at this view's commit (so it matches the index)."""
        found = self._blocks.get(doc.blob)
        if found is None:
            try:
                data = self.git.read_blob(doc.blob)
            except NotFound:
                raise StateError(f"{doc.path} is in the index but its blob is gone; run `mm index rebuild`") from None
            found = self._blocks[doc.blob] = parse(data, doc.path)
            # Prime the cached property with what the index recorded (same blob, so the same links).
            vars(found)["wiki_links"] = doc.wiki
        return found


def query_signals(text: str, weights: ranking.Weights = ranking.DEFAULT) -> list[tuple[tuple[str, str], float]]:
    """What free text is searched for: ((field, term), weight) pairs, "text" standing for BM25F over the
    text fields. Never parses whoosh syntax, so any input is safe."""
    if len(text) > MAX_QUERY_CHARS:
        raise BadInput(f"query is {len(text)} characters; the limit is {MAX_QUERY_CHARS}")
    signals = [(("text", term), 1.0) for term in query_terms(text)[:MAX_QUERY_TERMS]]
    for word in list(dict.fromkeys(w.lower() for w in _WORD_RE.findall(text)))[:MAX_QUERY_TERMS]:
        signals.append((("tags", word), weights.tags))
    names = entity_terms(text)
    words = _WORD_RE.findall(text)
    if not names and len(words) == 1 and words[0][0].isupper():
        names = entity_terms(f"the {words[0]}")  # a lone capitalised word ("Pricing", "Alice") is a name
    for term in names[:MAX_QUERY_TERMS]:
        signals += [(("entities", term), weights.entities), (("about", term), weights.about)]
    for block_id in dict.fromkeys(ID_IN_TEXT_RE.findall(text)):
        signals += [((field, block_id), weight) for field, weight in ranking.ID_WEIGHTS.items()]
    return signals


def _any(field: str, values: Collection[str] | None) -> DefaultOr | None:
    # A plain union: whoosh's default Or preloads an array as long as the index per query, which
    # costs more than it saves for the few short posting lists of filters and reverse links.
    return DefaultOr([Term(field, v) for v in values]) if values else None


def _doc(fields: dict[str, Any], score: float) -> Doc:
    created = fields.get("created")
    return Doc(
        id=fields["id"],
        type=fields["type"],
        status=fields["status"],
        title=fields["title"],
        path=fields["path"],
        created=created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else "",
        score=round(float(score), 4),
        wiki=tuple(fields.get("wiki", "").split()),
        blob=fields.get("blob", ""),
    )


# -- the lock ------------------------------------------------------------------------


class IndexLock:
    """An exclusive lock file (O_EXCL) holding pid, host and time.

    A lock whose pid is dead (on this host), or that its holder has not refreshed for
    LOCK_STALE_SECONDS, is broken: a killed process cannot leave the index stuck.
    """

    def __init__(self, path: Path, *, wait: float = LOCK_WAIT_SECONDS, stale_after: float = LOCK_STALE_SECONDS):
        self.path = path
        self.wait = wait
        self.stale_after = stale_after
        self.token = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}).encode()

    def __enter__(self) -> IndexLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                seen = self._read()
                if seen is not None and self._stale(seen):
                    self._break(seen)
                    continue
                if time.monotonic() > deadline:
                    raise StateError(
                        f"the search index is being updated by another process ({self._holder(seen)}); "
                        f"try again, or delete {self.path} if no mm is running"
                    ) from None
                time.sleep(0.05)
                continue
            with os.fdopen(fd, "wb") as handle:
                handle.write(self.token)
            return self

    def __exit__(self, *exc: object) -> None:
        if self._read() == self.token:
            self.path.unlink(missing_ok=True)

    def refresh(self) -> None:
        """Tell waiting processes the holder is alive and working."""
        os.utime(self.path)

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def _stale(self, seen: bytes) -> bool:
        try:
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return False
        try:
            holder = json.loads(seen)
            pid, host = int(holder["pid"]), holder["host"]
        except (ValueError, KeyError, TypeError):
            # Unreadable: a holder killed between creating and writing the file; give it a moment first.
            return age > 5
        return age > self.stale_after or (host == socket.gethostname() and not _alive(pid))

    def _break(self, seen: bytes) -> None:
        """Remove a stale lock without ever removing a fresh one another process took meanwhile."""
        grave = self.path.with_name(f"{self.path.name}.stale-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        try:
            os.rename(self.path, grave)
        except FileNotFoundError:
            return
        if grave.read_bytes() != seen:
            # Someone replaced the stale lock between our read and the rename: give it back.
            with contextlib.suppress(FileExistsError):
                os.link(grave, self.path)
        grave.unlink()

    def _holder(self, seen: bytes | None) -> str:
        try:
            holder = json.loads(seen or b"")
            return f"pid {holder['pid']} on {holder['host']}"
        except (ValueError, KeyError, TypeError):
            return "unknown holder"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
