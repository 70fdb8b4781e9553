"""The neighbours similar search spreads score to: the graph's, found without reading the neighbours' blocks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mindmem.search import index, ranked
from mindmem.store.memory import Memory

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture(scope="module")
def corpus_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import corpus

    return corpus.build_repo(tmp_path_factory.mktemp("neighbours") / "corpus", 150, seed=6, commits=2)


def test_neighbours_are_those_of_the_graph_of_the_neighbourhood(corpus_repo: Path) -> None:
    view = index.open_view(Memory(corpus_repo))
    docs = view.docs(blk.id for blk in Memory(corpus_repo).list(at="HEAD"))
    ids = sorted(docs)
    groups = [[i] for i in ids] + [ids[n : n + 3] for n in range(0, len(ids), 7)]
    linked = 0
    for group in groups:
        hubs = [docs[i] for i in group]
        g, near = ranked.neighbourhood(view, hubs, depth=1)
        found, around = ranked._around(view, hubs)
        assert found.keys() == near.keys()
        for hub in group:
            expected = set(g.successors(hub)) | set(g.predecessors(hub))
            assert around[hub] == expected, hub
            linked += len(expected)
    assert linked > len(ids)  # the corpus links its blocks: the comparison is not of empty sets
