"""Index folders on disk: their state file, opening them, and writing blocks into them.

Each index folder holds the whoosh files and `state.json`: the commit it reflects, the format
version, the memory root and the document count. `state.json` is written only after whoosh has
committed, so a crash in between leaves an index that is merely behind (the next catch-up applies
the same changes again, which is harmless) or whose count disagrees (it is rebuilt). Anything
unreadable is rebuilt, never trusted. Callers hold the index lock while writing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import index as wix

from mindmem.errors import BlockError, NotFound, StateError
from mindmem.search import segments, tables
from mindmem.search.document import document, schema
from mindmem.search.index_format import FORMAT_VERSION, STATE_FILE
from mindmem.store.blocks import parse
from mindmem.store.files import atomic_write
from mindmem.store.snapshot import is_block_path

if TYPE_CHECKING:
    from whoosh.writing import SegmentWriter

    from mindmem.store.memory import Memory

# How long a whoosh writer waits for whoosh's own write lock (held only by mm under the index lock).
WRITER_WAIT_SECONDS = 120

Progress = Callable[[int, int], None]


def rebuild_reason(memory: Memory, folder: Path, state: dict[str, Any] | None) -> str | None:
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
            return _doc_count(open_index(folder))
        except Exception as exc:  # any failure to read derived data means: rebuild it, never trust it
            return f"index files unreadable ({type(exc).__name__})"


@lru_cache(maxsize=16)
def _doc_count(ix: wix.FileIndex) -> int:
    # Each segment is opened once per process (which proves its files readable), so a catch-up opens only
    # the segment it wrote, not the whole index (at 100k blocks that was most of a one-block catch-up).
    # `open_index` hands out one object per table of contents.
    return sum(leaf.documents for leaf in segments.leaves(ix))


def _known(memory: Memory, sha: str) -> bool:
    try:
        # A read the git binary answers (`LazyRepo`): a hook or a fresh index need not load libgit2.
        return memory.git.commit_info(sha).sha == sha
    except NotFound:
        return False


_TOC_RE = re.compile(r"^_MAIN_(\d+)\.toc$")


@lru_cache(maxsize=16)
def _open_cached(folder: str, generation: int, toc_stamp: tuple[int, int]) -> wix.FileIndex:
    return wix.open_dir(folder)


def open_index(folder: Path) -> wix.FileIndex:
    """Open an index folder, reusing the open index while its table of contents is the same file."""
    # Whoosh names each committed generation's table of contents _MAIN_<n>.toc; the highest is current.
    generations = [int(m[1]) for m in map(_TOC_RE.match, os.listdir(folder) if folder.is_dir() else ()) if m]
    if not generations:
        raise StateError(f"no whoosh index in {folder}")
    generation = max(generations)
    toc = (folder / f"_MAIN_{generation}.toc").stat()
    return _open_cached(str(folder), generation, (toc.st_ino, toc.st_mtime_ns))


def build(memory: Memory, folder: Path, sha: str | None, progress: Progress | None) -> tuple[int, int]:
    """Index every block at `sha` into a fresh folder, then swap it in place of `folder`."""
    from mindmem.search import bulk  # only here: it loads numpy, which a catch-up does without

    sweep(folder)
    fresh = folder.with_name(f"{folder.name}.new-{uuid.uuid4().hex[:8]}")
    fresh.mkdir(parents=True)
    try:
        wix.create_in(str(fresh), schema())
        found = [] if sha is None else memory.git.iter_files(sha, memory.root)
        files = [(p, data, memory.git.blob_sha(data)) for p, data in found if is_block_path(p)]
        # A fresh index has nothing to delete: every block is one added document.
        written, skipped = bulk.build(fresh, files, bulk.parts_for(len(files)), progress)
        _write_state(fresh, memory, sha, written, skipped)
        swap(fresh, folder)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return written, 0


def update(memory: Memory, folder: Path, state: dict[str, Any], sha: str, progress: Progress | None) -> tuple[int, int]:
    """Apply the block files that changed between the indexed commit and `sha` (any two commits)."""
    if state["commit"] is None:
        changed: Iterable[tuple[str, bytes | None]] = memory.git.iter_files(sha, memory.root)
    else:
        # Blob ids, then the new blobs: reads the git binary answers, as `_known` (no libgit2 in a hook).
        changes = memory.git.changed_blobs(state["commit"], sha, memory.root)
        read = memory.git.read_blob
        changed = ((path, None if new is None else read(new)) for path, (_, new) in sorted(changes.items()))
    files = [(path, data) for path, data in changed if is_block_path(path)]
    written, removed, skipped = _write(memory, open_index(folder), files, set(state["skipped"]), progress)
    # Counted through the cache `status` reads next, so the new segments are opened once, not twice.
    _write_state(folder, memory, sha, _doc_count(open_index(folder)), skipped)
    return written, removed


def _write(
    memory: Memory,
    ix: wix.FileIndex,
    files: list[tuple[str, bytes | None]],
    skipped: set[str],
    progress: Progress | None,
) -> tuple[int, int, set[str]]:
    """Delete the documents of `files` and add what each holds now; (written, removed, unparseable paths)."""
    if not files:
        return 0, 0, skipped
    written = removed = 0
    writer = ix.writer(timeout=WRITER_WAIT_SECONDS, limitmb=256)
    try:
        for done, (path, data) in enumerate(files, 1):
            _delete(writer, "path", path)
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
                _delete(writer, "id", block.id)  # one document per ID, as whoosh's update_document keeps it
                writer.add_document(**document(block, path), blob=memory.git.blob_sha(data))
                written += 1
            if progress is not None and (done % 200 == 0 or done == len(files)):
                progress(done, len(files))
        # whoosh's default policy (MERGE_SMALL) folds small segments together and never rewrites the
        # large one a build wrote; merging nothing until 16 segments was measured and was not better.
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    _write_tables(ix)
    return written, removed, skipped


def _write_tables(ix: wix.FileIndex) -> None:
    """Write the posting tables of the segments whoosh just wrote (the new one, or small ones merged), before
    the state says the index reflects the commit: readers catch up only then, so they find the tables."""
    for segment in wix.TOC.read(ix.storage, ix.indexname).segments:
        found = tables.path_of(ix.storage.folder, segment.segment_id())
        if segment.doc_count_all() <= tables.MAX_READ_BACK and not found.exists():
            reader = segments.reader(ix.storage, ix.schema, segment)
            tables.write_from_reader(ix.storage.folder, reader, segments.read_lists)


def _delete(writer: SegmentWriter, field: str, value: str) -> None:
    """Delete the committed documents with `value` in `field`, looked up through the segment readers kept
    across catch-ups (whoosh's own delete_by_term opens every segment of the index each time)."""
    offset = 0
    for segment in writer.segments:
        found = segments.docnums(segments.reader(writer.storage, writer.schema, segment), field, value)
        deleted = set(segment.deleted_docs())
        for docnum in found:
            if docnum not in deleted:
                writer.delete_document(offset + docnum)
        offset += segment.doc_count_all()


def _write_state(folder: Path, memory: Memory, sha: str | None, documents: int, skipped: set[str]) -> None:
    state = {"format": FORMAT_VERSION, "commit": sha, "root": memory.root, "documents": documents}
    atomic_write(folder / STATE_FILE, json.dumps({**state, "skipped": sorted(skipped)}, indent=1).encode())


def sweep(folder: Path) -> None:
    """Remove what a killed build or swap of `folder` left behind (only lock holders create these)."""
    if folder.parent.is_dir():
        for leftover in folder.parent.glob(f"{folder.name}.[no][el][wd]-*"):
            shutil.rmtree(leftover, ignore_errors=True)


def swap(fresh: Path, folder: Path) -> None:
    """Put `fresh` where `folder` is. Readers with open searchers keep reading the old files meanwhile."""
    old = folder.with_name(f"{folder.name}.old-{uuid.uuid4().hex[:8]}")
    if folder.exists():
        os.rename(folder, old)
    os.rename(fresh, folder)
    shutil.rmtree(old, ignore_errors=True)
