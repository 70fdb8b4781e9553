"""The typed graph and compiled truth, on real memory repos built with `mm new` and git commits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import networkx as nx
import pytest
from conftest import git

from mindmem.search.graph import build_graph, compiled_truth, expand, impact
from mindmem.search.graph import path as graph_path
from mindmem.store.memory import Memory

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def new(mm, repo: Path, kind: str, title: str, *args: str) -> str:
    result = mm("new", kind, "-t", title, *args, cwd=repo)
    assert result.code == 0, result.err
    return result.out.strip()


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "memory")
    git(repo, "commit", "-q", "-m", message)


def set_status(repo: Path, block_id: str, status: str) -> None:
    path = next((repo / "memory").rglob(f"{block_id}.md"))
    path.write_text(path.read_text().replace("status: active", f"status: {status}", 1))


def run_json(mm, repo: Path, *args: str):
    result = mm(*args, "--json", cwd=repo)
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.fixture
def billing(repo, mm):
    """A small committed memory: a project, a fact, a decision that cites it, a task that depends
    on the decision and is tested by an incident note, and a wiki link to a tool that has no block."""
    ids = {"prj": new(mm, repo, "project", "Billing")}
    ids["fact"] = new(mm, repo, "fact", "Events are append-only", "--set", "subject=PRJ-billing")
    ids["dec"] = new(
        mm,
        repo,
        "decision",
        "Store events in MySQL",
        "--set",
        "subject=PRJ-billing",
        "-e",
        f"cites:{ids['fact']}",
        "-b",
        "Runs on [[TOOL-mysql]].",
    )
    ids["test"] = new(mm, repo, "note", "Replay test for the event store")
    ids["task"] = new(
        mm, repo, "task", "Migrate the event store", "-e", f"depends_on:{ids['dec']}", "-e", f"tested_by:{ids['test']}"
    )
    ids["other"] = new(mm, repo, "note", "Unrelated note")
    commit(repo, "billing memory")
    return ids


def test_build_graph_has_a_node_per_block_typed_edges_and_dangling_targets(repo, billing):
    g = build_graph(Memory(repo).snapshot("HEAD"))
    assert g.graph["commit"] == git(repo, "rev-parse", "HEAD").strip()
    for key in ("prj", "fact", "dec", "task", "test", "other"):
        assert g.nodes[billing[key]]["block"].id == billing[key]
        assert g.nodes[billing[key]]["dangling"] is False
    assert g.nodes["TOOL-mysql"] == {"block": None, "dangling": True}
    assert g.has_edge(billing["dec"], billing["fact"], key="cites")
    assert g.edges[billing["dec"], "TOOL-mysql", "relates_to"]["type"] == "relates_to"
    assert g.has_edge(billing["task"], billing["test"], key="tested_by")
    assert g.number_of_edges() == 4
    assert g.degree(billing["other"]) == 0


def test_expand_follows_both_directions_to_depth_with_the_edge_that_reached_each_node(repo, mm, billing):
    one = run_json(mm, repo, "graph", "expand", billing["dec"])
    assert one["start"]["id"] == billing["dec"]
    reached = {h["id"]: h for h in one["hops"]}
    # PRJ-billing is the decision's subject: not an edge, but expand walks it as relates_to.
    assert set(reached) == {billing["fact"], billing["task"], "TOOL-mysql", "PRJ-billing"}
    assert reached["PRJ-billing"]["via"] == {"source": billing["dec"], "target": "PRJ-billing", "type": "relates_to"}
    assert reached[billing["task"]]["via"] == {
        "source": billing["task"],
        "target": billing["dec"],
        "type": "depends_on",
    }
    assert reached["TOOL-mysql"]["dangling"] is True
    assert all(h["depth"] == 1 for h in one["hops"])

    two = run_json(mm, repo, "graph", "expand", billing["fact"], "--depth", "2")
    depths = {h["id"]: h["depth"] for h in two["hops"]}
    assert depths == {billing["dec"]: 1, "PRJ-billing": 1, billing["task"]: 2, "TOOL-mysql": 2}

    only = run_json(mm, repo, "graph", "expand", billing["dec"], "--types", "cites,depends_on")
    assert {h["id"] for h in only["hops"]} == {billing["fact"], billing["task"]}
    out = run_json(mm, repo, "graph", "expand", billing["dec"], "--direction", "out")
    assert {h["id"] for h in out["hops"]} == {billing["fact"], "TOOL-mysql", "PRJ-billing"}
    project = run_json(mm, repo, "graph", "expand", "PRJ-billing")  # the blocks about a project
    assert {h["id"] for h in project["hops"]} == {billing["fact"], billing["dec"]}

    text = mm("graph", "expand", billing["fact"], "-d", "2", cwd=repo)
    assert text.code == 0
    assert "<-cites-" in text.out and "(no such block)" in text.out and f"(via {billing['dec']})" in text.out


def test_graph_commands_reject_unknown_ids_and_edge_types_with_exit_2(repo, mm, billing):
    for args in (
        ("graph", "expand", "D-20990101-abcdef"),
        ("graph", "impact", "PER-nobody"),
        ("graph", "path", billing["fact"], "F-20990101-abcdef"),
        ("graph", "expand", billing["fact"], "--types", "likes"),
        ("graph", "expand", billing["fact"], "--direction", "sideways"),
        ("graph", "export", "--format", "svg"),
        ("graph", "export", "--json"),
        ("truth", "PRJ-nothing"),
    ):
        result = mm(*args, cwd=repo)
        assert result.code == 2, (args, result.out, result.err)
        assert result.err.startswith("mm: error:"), result.err


def test_path_ignores_direction_and_names_the_edges(repo, mm, billing):
    found = run_json(mm, repo, "graph", "path", billing["fact"], billing["test"])["path"]
    assert [n["id"] for n in found["nodes"]] == [billing["fact"], billing["dec"], billing["task"], billing["test"]]
    assert [e["type"] for e in found["edges"]] == ["cites", "depends_on", "tested_by"]
    assert found["edges"][0] == {"source": billing["dec"], "target": billing["fact"], "type": "cites"}

    assert run_json(mm, repo, "graph", "path", billing["fact"], billing["other"])["path"] is None
    assert "no path between" in mm("graph", "path", billing["fact"], billing["other"], cwd=repo).out
    blocked = run_json(mm, repo, "graph", "path", billing["fact"], billing["test"], "--types", "cites,tested_by")
    assert blocked["path"] is None


def test_impact_is_transitive_over_what_rests_on_a_block(repo, mm, billing):
    hops = run_json(mm, repo, "graph", "impact", billing["fact"])["hops"]
    assert [(h["id"], h["depth"], h["via"]["type"]) for h in hops] == [
        (billing["dec"], 1, "cites"),
        (billing["task"], 2, "depends_on"),
    ]
    # tested_by counts: the task loses its evidence when the test note changes.
    assert [h["id"] for h in run_json(mm, repo, "graph", "impact", billing["test"])["hops"]] == [billing["task"]]
    # Nothing rests on the task, and relates_to/supersedes never carry impact.
    assert run_json(mm, repo, "graph", "impact", billing["task"])["hops"] == []
    assert run_json(mm, repo, "graph", "impact", "TOOL-mysql")["hops"] == []
    assert run_json(mm, repo, "graph", "impact", billing["fact"], "--types", "cites")["hops"][0]["id"] == billing["dec"]


def test_contradict_lists_active_pairs_and_clusters(repo, mm, billing):
    empty = {"commit": None, "pairs": [], "clusters": [], "reasons": []}
    assert run_json(mm, repo, "graph", "contradict") == empty
    a = new(mm, repo, "fact", "Events may be deleted", "-e", f"contradicts:{billing['fact']}")
    b = new(mm, repo, "fact", "Events are kept forever", "-e", f"contradicts:{a}")
    old = new(mm, repo, "fact", "Old claim", "-e", f"contradicts:{billing['dec']}")
    set_status(repo, old, "superseded")
    x = new(mm, repo, "decision", "Deploy on Fridays")
    y = new(mm, repo, "decision", "Never deploy on Fridays", "-e", f"contradicts:{x}")
    found = run_json(mm, repo, "graph", "contradict")
    assert found["pairs"] == sorted([sorted([a, billing["fact"]]), sorted([a, b]), sorted([x, y])])
    assert sorted(found["clusters"]) == sorted([sorted([a, b, billing["fact"]]), sorted([x, y])])
    text = mm("graph", "contradict", cwd=repo).out
    assert "cluster 2:" in text and f"{min(x, y)} contradicts {max(x, y)}" in text


def test_export_formats_parse_back(repo, mm, billing, tmp_path):
    dot = mm("graph", "export", cwd=repo)
    assert dot.code == 0 and dot.out.startswith("digraph mindmem {")
    assert f'"{billing["dec"]}" -> "{billing["fact"]}" [label="cites"];' in dot.out
    assert '"TOOL-mysql" [label="TOOL-mysql", style=dashed];' in dot.out

    target = tmp_path / "out" / "memory.graphml"
    report = run_json(mm, repo, "graph", "export", "--format", "graphml", "--output", str(target))
    assert report["nodes"] == 7 and report["edges"] == 4 and report["commit"] is None
    g = nx.read_graphml(target)
    assert g.nodes[billing["fact"]]["title"] == "Events are append-only"
    assert g.nodes["TOOL-mysql"]["dangling"] is True
    assert {d["type"] for _, _, d in g.edges(data=True)} == {"cites", "relates_to", "depends_on", "tested_by"}
    assert [p.name for p in target.parent.iterdir()] == ["memory.graphml"]  # no temp file left behind

    data = json.loads(mm("graph", "export", "-f", "json", cwd=repo).out)
    back = nx.node_link_graph(data, edges="edges")
    assert back.has_edge(billing["task"], billing["dec"], key="depends_on")
    assert back.nodes[billing["task"]]["status"] == "todo"

    odd = new(mm, repo, "note", 'Quote " and back\\n slash')
    assert f'"{odd}" [label="{odd}\\nQuote \\" and back\\\\n slash"];' in mm("graph", "export", cwd=repo).out


def test_at_answers_from_an_older_commit(repo, mm, billing):
    new_fact = new(mm, repo, "fact", "Events are partitioned by month")
    dec_path = next((repo / "memory").rglob(f"{billing['dec']}.md"))
    old_cite, new_cite = f"cites:\n    - {billing['fact']}\n", f"cites:\n    - {new_fact}\n"
    dec_path.write_text(dec_path.read_text().replace(old_cite, new_cite))
    commit(repo, "cite the partitioning fact instead")

    now = run_json(mm, repo, "graph", "impact", billing["fact"])["hops"]
    before = run_json(mm, repo, "graph", "impact", billing["fact"], "--at", "HEAD~1")
    assert now == []
    assert [h["id"] for h in before["hops"]] == [billing["dec"], billing["task"]]
    assert before["commit"] == git(repo, "rev-parse", "HEAD~1").strip()
    assert (
        len(run_json(mm, repo, "graph", "path", billing["dec"], billing["fact"], "--at", "HEAD~1")["path"]["edges"])
        == 1
    )
    assert run_json(mm, repo, "graph", "path", billing["dec"], billing["fact"], "--at", "HEAD")["path"] is None
    old_dot = mm("graph", "export", "--at", "HEAD~1", cwd=repo).out
    assert new_fact not in old_dot and f'"{billing["dec"]}" -> "{billing["fact"]}"' in old_dot
    assert mm("graph", "expand", new_fact, "--at", "HEAD~1", cwd=repo).code == 2
    assert mm("graph", "contradict", "--at", "no-such-rev", cwd=repo).code == 2


def test_truth_applies_supersede_chains_newest_first(repo, mm, billing):
    mid = new(mm, repo, "decision", "Store events in PostgreSQL", "-e", f"supersedes:{billing['dec']}")
    set_status(repo, billing["dec"], "superseded")
    commit(repo, "postgres")
    # The newest decision names neither the project nor the first decision's subject: it is in the
    # truth because it replaced a block that was about the project.
    top = new(
        mm,
        repo,
        "decision",
        "Store events in PostgreSQL 17",
        "-e",
        f"supersedes:{mid}",
        "-e",
        "supersedes:D-20200101-000000",
        "--set",
        "created=2099-01-01T00:00:00Z",  # blocks made in the same second tie on `created`
    )
    set_status(repo, mid, "superseded")
    revoked = new(mm, repo, "fact", "Billing runs nightly", "--set", "subject=PRJ-billing")
    set_status(repo, revoked, "revoked")
    commit(repo, "postgres 17")

    truth = run_json(mm, repo, "truth", "PRJ-billing")
    ids = [e["id"] for e in truth["entries"]]
    assert set(ids) == {billing["prj"], billing["fact"], top}
    assert ids[0] == top  # newest first
    assert truth["commit"] is None
    chain = next(e for e in truth["entries"] if e["id"] == top)["replaced"]
    assert [(r["id"], r["by"], r["dangling"]) for r in chain] == [
        (mid, top, False),
        ("D-20200101-000000", top, True),
        (billing["dec"], mid, False),
    ]
    older = run_json(mm, repo, "truth", "PRJ-billing", "--at", "HEAD~1")
    assert mid in [e["id"] for e in older["entries"]] and top not in [e["id"] for e in older["entries"]]
    assert older["commit"] == git(repo, "rev-parse", "HEAD~1").strip()
    oldest = run_json(mm, repo, "truth", "PRJ-billing", "--at", "HEAD~2")
    assert billing["dec"] in [e["id"] for e in oldest["entries"]]

    text = mm("truth", "PRJ-billing", cwd=repo).out
    assert f"replaced {billing['dec']}" in text and f"(by {mid})" in text
    # An entity is found through the blocks that link to it, even with no block of its own.
    assert [e["id"] for e in run_json(mm, repo, "truth", "TOOL-mysql", "--at", "HEAD~2")["entries"]] == [billing["dec"]]


def test_truth_of_a_subject_with_only_retired_blocks_is_empty(repo, mm):
    gone = new(mm, repo, "fact", "Cache TTL is 5 minutes", "--set", "subject=cache.ttl")
    set_status(repo, gone, "revoked")
    assert run_json(mm, repo, "truth", "cache.ttl")["entries"] == []


def test_graph_on_a_generated_corpus(tmp_path, mm):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import corpus
    finally:
        sys.path.remove(str(BENCHMARKS))
    path = corpus.build_repo(tmp_path / "corpus", 200, seed=1, commits=3)
    snap = Memory(path).snapshot("HEAD")
    g = build_graph(snap)
    # The corpus never writes a dangling edge, so every node is a block.
    assert g.number_of_nodes() == len(snap) == 200
    assert not any(d["dangling"] for _, d in g.nodes(data=True))
    assert g.number_of_edges() == sum(len(list(b.all_edges())) for b in snap.blocks.values())
    # One judgement: `graph contradict` lists exactly what `mm check` reports, which is every planted pair.
    planted = corpus.make(200, seed=1).planted
    expected = sorted(sorted((p.older, p.newer)) for p in planted)
    assert {p.kind for p in planted} >= {"must_vs_must_not", "two_musts", "fact_overlap", "explicit_contradicts"}
    listed = run_json(mm, path, "graph", "contradict")["pairs"]
    checked = json.loads(mm("check", "--json", cwd=path).out)["findings"]
    contradictions = sorted(
        sorted(f["blocks"]) for f in checked if f["code"].startswith("MM-C") and f["code"] != "MM-C007"
    )
    assert listed == expected == contradictions
    # The generator also repeats a decision's title now and then: check says so, contradict does not.
    for pair in (f["blocks"] for f in checked if f["code"] == "MM-C007"):
        assert len({snap.blocks[i].title for i in pair}) == 1 and pair not in listed

    for block_id in sorted(snap.blocks)[::10]:
        hops = expand(g, block_id, depth=2)
        reached = [h.node.id for h in hops]
        assert len(set(reached)) == len(reached) and block_id not in reached
        assert all(h.depth in (1, 2) for h in hops)
        for hop in impact(g, block_id):
            assert hop.via.type in ("cites", "depends_on", "derived_from", "tested_by")

    undirected = g.to_undirected(as_view=True)
    ids = sorted(snap.blocks)
    for a, b in zip(ids[::7], ids[::-7], strict=False):
        found = graph_path(g, a, b)
        if found is None:
            assert not nx.has_path(undirected, a, b)
            continue
        assert len(found.edges) == nx.shortest_path_length(undirected, a, b)
        for edge, x, y in zip(found.edges, found.nodes, found.nodes[1:], strict=False):
            assert {edge.source, edge.target} == {x.id, y.id} and g.has_edge(edge.source, edge.target, edge.type)

    retired = {i for i, b in snap.blocks.items() if b.status in ("superseded", "revoked")}
    chained = set()
    for subject in sorted({b.subject for b in snap.blocks.values() if b.subject}):
        for entry in compiled_truth(snap, subject).entries:
            assert entry.block.id not in retired
            chained.update(r.node.id for r in entry.replaced)
    assert chained and chained <= retired

    first = run_json(mm, path, "graph", "export", "--format", "json", "--at", "HEAD~2", "--output", str(tmp_path / "a"))
    assert 0 < first["nodes"] < 200
