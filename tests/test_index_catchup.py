"""The catch-up in a new process (a git hook after every commit, `mm approve`) loads what writing needs only.

And the numpy-free reads it deletes and writes tables by give what the numpy ones give, term for term.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from check_helpers import put
from conftest import git
from whoosh import index as wix

from mindmem.search import index, segments, tables
from mindmem.store.memory import Memory

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

# What answering queries or a full build loads, and a catch-up does without.
READING_SIDE = ("numpy", "mindmem.search.bulk", "mindmem.search.view", "mindmem.search.index")
PROBE = (
    "import json, sys\nfrom mindmem.governance.hooks import main\n"
    "code = main(['post-commit'])\n"
    "print(json.dumps([code, sorted(m for m in sys.argv[1:] if m in sys.modules)]))\n"
)


def hook(repo: Path, modules: tuple[str, ...] = READING_SIDE) -> list[str]:
    """Run the post-commit hook as git's shim does, in a new process; which of `modules` it loaded."""
    done = subprocess.run([sys.executable, "-c", PROBE, *modules], cwd=repo, capture_output=True, text=True, check=True)
    code, loaded = json.loads(done.stdout.splitlines()[-1])
    assert code == 0 and "mindmem:" not in done.stderr, done.stderr
    return loaded


def ids_for(memory: Memory, query: str) -> list[str]:
    return [doc.id for doc in index.open_view(memory).search(query, limit=10)]


def test_the_post_commit_hook_catches_up_without_the_reading_side(repo: Path, mm) -> None:
    for n, title in enumerate(("Quokka retention policy", "Wombat deploy checklist", "Numbat billing notes"), 1):
        put(repo, f"N-20260101-00000{n}", title, body=f"The {title.split()[0].lower()} team owns this.")
    git(repo, "add", "memory")
    git(repo, "commit", "-q", "-m", "three notes")
    assert mm("index", "rebuild", cwd=repo).code == 0
    # An edit, a removal and a new block in one commit: deletes by path and ID, a new segment and its table.
    put(repo, "N-20260101-000001", "Quokka retention policy", body="Retention is now ninety days.")
    git(repo, "rm", "-q", "memory/notes/N-20260101-000002.md")
    put(repo, "N-20260101-000004", "Bilby onboarding guide", body="New starters read this first.")
    git(repo, "add", "memory")
    git(repo, "commit", "-q", "-m", "edit, remove, add")
    assert hook(repo, (*READING_SIDE, "pygit2")) == []  # the index lock is an flock: no libgit2 either
    memory = Memory(repo)
    status = index.status(memory)
    assert status.fresh and status.indexed == git(repo, "rev-parse", "HEAD").strip() and status.documents == 3
    assert ids_for(memory, "ninety days") == ["N-20260101-000001"]
    assert ids_for(memory, "wombat") == []
    assert ids_for(memory, "bilby onboarding") == ["N-20260101-000004"]
    folder = Path(status.path)
    ix = wix.open_dir(str(folder))
    written = wix.TOC.read(ix.storage, ix.indexname).segments
    assert all(tables.path_of(folder, s.segment_id()).exists() for s in written)  # the hook wrote its table


def test_a_commit_that_leaves_the_governed_branch_where_it_was_loads_no_whoosh(repo: Path, mm) -> None:
    put(repo, "N-20260101-000001", "Quokka retention policy", body="Retention is thirty days.")
    git(repo, "add", "memory")
    git(repo, "commit", "-q", "-m", "a note")
    assert mm("index", "rebuild", cwd=repo).code == 0
    git(repo, "checkout", "-q", "-b", "topic")
    put(repo, "N-20260101-000002", "Wombat deploy checklist", body="Deploys go through staging.")
    git(repo, "add", "memory")
    git(repo, "commit", "-q", "-m", "on a topic branch")
    assert hook(repo, ("whoosh", "mindmem.search.catchup")) == []
    memory = Memory(repo)
    assert index.status(memory).fresh and ids_for(memory, "wombat") == []  # recall answers from main
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "topic")  # now the governed branch moves: the hook writes
    assert hook(repo, ("whoosh",)) == ["whoosh"]
    assert ids_for(Memory(repo), "wombat") == ["N-20260101-000002"]


@pytest.fixture
def corpus_repo(tmp_path: Path) -> Path:
    import corpus

    return corpus.build_repo(tmp_path / "corpus", 90, seed=5, commits=2)


def test_the_light_reads_give_what_the_numpy_reads_give(corpus_repo: Path) -> None:
    memory = Memory(corpus_repo)
    index.rebuild(memory)
    for n, path in enumerate(sorted((corpus_repo / "memory" / "facts").glob("F-*.md"))[:2]):
        path.write_text(path.read_text() + f"\nThe quokka retention is {n + 2} days.\n")
        git(corpus_repo, "commit", "-q", "-a", "-m", f"edit fact {n}")
        index.catch_up(memory)  # one segment whoosh wrote per catch-up, each with its table
    folder = index.index_root(memory) / "current"
    ix = wix.open_dir(str(folder))
    checked = 0
    for segment in wix.TOC.read(ix.storage, ix.indexname).segments:
        reader = segments.reader(ix.storage, ix.schema, segment)
        table = tables.load(folder, segment.segment_id(), segment.doc_count_all())
        assert table is not None
        for field, term in reader.all_terms():
            docnums, weights = segments.read(reader, field, term)
            assert segments.read_lists(reader, field, term) == (docnums.tolist(), weights.tolist())
            assert table.docnums(field, term) == table.postings(field, term)[0].tolist() == docnums.tolist()
            assert segments.docnums(reader, field, term) == docnums.tolist()
            checked += 1
        assert table.docnums("path", "no/such/file.md") == []
    assert checked > 1000
