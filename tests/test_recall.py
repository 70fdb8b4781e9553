"""mm recall on a small hand-made memory: what each mode answers, the JSON shapes, bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import git
from recall_world import (
    CACHE_DECISION,
    FIX,
    LOAD_TEST,
    NEW_DECISION,
    NO_CACHE,
    OLD_DECISION,
    OUTAGE,
    QUEUE_LIMIT,
    RETRY_NOTE,
    RUNS_ON,
    STALE_DECISION,
    build_world,
    commit,
    write_block,
)

from mindmem.search import index
from mindmem.search.recall import asked_statuses, classify, decompose, recall
from mindmem.store.memory import Memory

HIT_KEYS = {"id", "title", "type", "status", "score", "commit", "path"}


@pytest.fixture
def world(repo: Path) -> Path:
    build_world(repo)
    return repo


def run(mm, world: Path, *args: str) -> dict:
    result = mm("recall", *args, "--json", cwd=world)
    assert result.code == 0, result.err
    return json.loads(result.out)


def ids(data: dict) -> list[str]:
    return [r["id"] for r in data["results"]]


# -- similar ------------------------------------------------------------------------


def test_similar_ranks_the_current_decision_and_hides_the_superseded_one(world: Path, mm) -> None:
    data = run(mm, world, "billing events storage engine")
    head = git(world, "rev-parse", "HEAD").strip()
    assert (data["mode"], data["commit"], data["subqueries"]) == ("similar", head, [])
    assert ids(data)[0] == NEW_DECISION
    assert OLD_DECISION not in ids(data)
    for result in data["results"]:
        assert result.keys() >= HIT_KEYS and result["commit"] == head
    shown = run(mm, world, "billing events storage engine", "--all-status")
    assert OLD_DECISION in ids(shown)


def test_a_block_superseded_by_an_edge_is_hidden_even_if_its_status_was_not_updated(world: Path, mm) -> None:
    assert STALE_DECISION not in ids(run(mm, world, "deploy billing ansible"))
    assert STALE_DECISION in ids(run(mm, world, "deploy billing ansible", "--all-status"))


def test_graph_neighbours_of_strong_hits_are_boosted(world: Path, mm) -> None:
    # The note shares no word with the query; it is found only through its relates_to edge to the decision.
    data = run(mm, world, "PostgreSQL event store")
    assert ids(data)[0] == NEW_DECISION
    note = next(r for r in data["results"] if r["id"] == RETRY_NOTE)
    assert note["via"] == NEW_DECISION and note["score"] > 0


def test_entities_match_by_id_and_by_name(world: Path, mm) -> None:
    assert ids(run(mm, world, "PER-alice"))[:2] == ["PER-alice", NEW_DECISION]
    # "Alice" names PER-alice: the decision that links to her is found by the capitalised name.
    assert NEW_DECISION in ids(run(mm, world, "what did Alice pick", "--type", "decision"))


def test_question_words_do_not_match_and_a_name_weighs_most_where_it_is_the_subject(repo: Path, mm) -> None:
    # The block that only mentions Alice and shares the question's wording ("what did", "new office")
    # must not beat the one about her that says when it happened.
    write_block(
        repo,
        {"id": "N-20260302-00aa01", "type": "note", "title": "What did Alice think of the new office?"},
        "Bob asked what did we do with the new office plans.",
    )
    write_block(
        repo,
        {"id": "N-20260303-00aa02", "type": "note", "title": "Moved desks to the new office", "subject": "PER-alice"},
        "Alice moved her desk on Tuesday.",
    )
    commit(repo, "office notes")
    assert ids(run(mm, repo, "When did Alice's team move to the new office?"))[0] == "N-20260303-00aa02"
    assert index.query_terms("What did Alice's team do about it?") == ["alic", "team"]
    assert index.entity_terms("What did Alice's team do?") == ["alice"]
    assert run(mm, repo, "what did he do")["results"] == []


def test_multi_part_questions_are_split_and_fused(world: Path, mm) -> None:
    data = run(mm, world, "Where do billing events live; also what stopped the invoices?")
    assert data["subqueries"] == ["Where do billing events live", "what stopped the invoices"]
    top = ids(data)[:3]
    assert NEW_DECISION in top and OUTAGE in top
    assert decompose("billing storage engine and deploy pipeline owner") == [
        "billing storage engine",
        "deploy pipeline owner",
    ]
    assert decompose("Alice and Bob") == []
    # In a question, "and" joins what it asks about together; an initial or a title ends no sentence.
    assert decompose("What activity did John and Max enjoy together last summer?") == []
    assert decompose("What does Nate cook that he loves and can make money from?") == []
    assert decompose("Would Tim enjoy books by C. S. Lewis or Dr. Seuss?") == []
    assert decompose("What schools did John play in and how many years was he there?") == [
        "What schools did John play in",
        "how many years was he there",
    ]


def test_type_filter_and_limit(world: Path, mm) -> None:
    data = run(mm, world, "billing", "--type", "fact", "--limit", "1")
    assert [r["type"] for r in data["results"]] == ["fact"]


def test_intent_lists_tasks_in_the_state_the_question_names(world: Path, mm) -> None:
    write_block(
        world, {"id": "T-20261116-0c0c0c", "type": "task", "title": "Rotate the webhook secret", "status": "todo"}, ""
    )
    write_block(
        world, {"id": "T-20261117-0d0d0d", "type": "task", "title": "Page the DBA team", "status": "blocked"}, ""
    )
    commit(world, "two open tasks")
    data = run(mm, world, "what tasks are open", "--mode", "intent")
    assert sorted(ids(data)) == ["T-20261116-0c0c0c", "T-20261117-0d0d0d"]
    assert ids(run(mm, world, "which tasks are done", "--mode", "intent")) == [FIX]
    assert asked_statuses("anything blocked or in progress?") == ("doing", "blocked")
    assert asked_statuses("what did we decide") == ()


# -- intent -------------------------------------------------------------------------


def test_intent_classifies_and_filters_types(world: Path, mm) -> None:
    data = run(mm, world, "what is the status of the queue limit task?", "--mode", "intent")
    assert data["intent"]["label"] == "task" and data["intent"]["types"] == ["task"]
    assert ids(data) == [FIX]
    assert classify("why did we decide on PostgreSQL").label == "decision"
    assert classify("what broke last night").label == "incident"
    assert classify("who owns billing").label == "who"
    assert classify("when does the decision expire").label in ("when", "decision")
    assert classify("tell me about billing").label == "general"
    text = mm("recall", "what broke the invoices?", "--mode", "intent", cwd=world).out
    assert "intent: incident (broke) -> incident, task" in text


def test_intent_widens_when_nothing_of_the_guessed_type_matches(world: Path, mm) -> None:
    data = run(mm, world, "what is the status of kubernetes", "--mode", "intent")
    assert data["intent"]["widened"] is True and ids(data)[0] == RUNS_ON


# -- verify -------------------------------------------------------------------------


def verdict(mm, world: Path, claim: str, *args: str) -> dict:
    return run(mm, world, claim, "--mode", "verify", *args)


def test_verify_supports_a_claim_memory_agrees_with(world: Path, mm) -> None:
    data = verdict(mm, world, "billing events are stored in PostgreSQL")
    assert data["verdict"] == "supported"
    assert data["supporting"][0]["id"] == NEW_DECISION and data["supporting"][0]["kind"] == "constraint"
    assert data["contradicting"] == []


def test_verify_finds_a_contradicting_constraint(world: Path, mm) -> None:
    data = verdict(mm, world, "billing stores events in MySQL")
    assert data["verdict"] == "contradicted"
    assert [(e["id"], e["kind"]) for e in data["contradicting"]] == [(NEW_DECISION, "constraint")]
    # With the superseded decision shown, it supports the claim while the current one still contradicts it.
    everything = verdict(mm, world, "billing stores events in MySQL", "--all-status")
    assert OLD_DECISION in [e["id"] for e in everything["supporting"]]
    assert everything["verdict"] == "contradicted"


def test_verify_finds_a_fact_with_another_object(world: Path, mm) -> None:
    data = verdict(mm, world, "billing runs on nomad")
    assert data["verdict"] == "contradicted"
    assert (data["contradicting"][0]["id"], data["contradicting"][0]["kind"]) == (RUNS_ON, "fact")
    assert verdict(mm, world, "billing runs on kubernetes")["verdict"] == "supported"


def test_verify_follows_explicit_contradicts_edges_and_negation(world: Path, mm) -> None:
    data = verdict(mm, world, "invoices are cached in Redis")
    assert data["verdict"] == "contradicted"
    assert CACHE_DECISION in [e["id"] for e in data["supporting"]]
    against = {e["id"]: e for e in data["contradicting"]}
    assert NO_CACHE in against and against[NO_CACHE]["kind"] in ("edge", "negation")


def test_verify_calls_another_number_on_the_same_topic_a_contradiction(repo: Path, mm) -> None:
    write_block(
        repo,
        {"id": "N-20260302-00bb01", "type": "note", "title": "API rate limit"},
        "The public API rate limit is 600 requests per minute per key.",
    )
    commit(repo, "rate limit")
    wrong = run(mm, repo, "the API rate limit is 1200 requests per minute", "--mode", "verify")
    assert wrong["verdict"] == "contradicted"
    assert wrong["contradicting"][0]["kind"] == "number" and "600" in wrong["contradicting"][0]["reason"]
    assert run(mm, repo, "the API rate limit is 600 requests per minute", "--mode", "verify")["verdict"] == "supported"


def test_verify_calls_another_named_value_on_the_same_topic_a_contradiction(repo: Path, mm) -> None:
    write_block(
        repo,
        {"id": "N-20260302-00bb02", "type": "note", "title": "Rounding money"},
        "Money is rounded half-even (banker's rounding) everywhere in billing.",
    )
    commit(repo, "rounding")
    wrong = run(mm, repo, "money is rounded half_up", "--mode", "verify")
    assert wrong["verdict"] == "contradicted" and wrong["contradicting"][0]["kind"] == "value"
    assert run(mm, repo, "money is rounded half_even", "--mode", "verify")["verdict"] == "supported"


def test_verify_says_unknown_without_evidence(world: Path, mm) -> None:
    data = verdict(mm, world, "the office plants need watering")
    assert (data["verdict"], data["supporting"], data["contradicting"]) == ("unknown", [], [])


# -- diagnose -----------------------------------------------------------------------


def test_diagnose_finds_an_incident_by_a_word_inside_another(world: Path, mm) -> None:
    write_block(
        world,
        {"id": "I-20261118-0e0e0e", "type": "incident", "title": "Customers overcharged after the retry storm"},
        "Payments were captured again when the gateway timed out.",
    )
    commit(world, "overcharge incident")
    data = run(mm, world, "why was the card charged twice?", "--mode", "diagnose")
    assert data["diagnoses"][0]["id"] == "I-20261118-0e0e0e"


def test_diagnose_follows_edges_to_the_cause_the_fix_and_its_test(world: Path, mm) -> None:
    data = run(mm, world, "invoices stopped", "--mode", "diagnose")
    first = data["diagnoses"][0]
    assert first["id"] == OUTAGE
    assert [c["id"] for c in first["causes"]] == [QUEUE_LIMIT]
    assert [f["id"] for f in first["fixes"]] == [FIX]
    assert [t["id"] for t in first["tests"]] == [LOAD_TEST]
    assert first["fixes"][0]["edge"] == {"source": FIX, "type": "derived_from", "target": OUTAGE}
    assert all(d["type"] in ("incident", "task") for d in data["diagnoses"])
    text = mm("recall", "invoices stopped", "--mode", "diagnose", cwd=world).out
    assert f"fix   {FIX}" in text and f"test  {LOAD_TEST}" in text


# -- bundle -------------------------------------------------------------------------


def test_bundle_has_facts_relations_timeline_and_entities_each_citing_block_and_commit(world: Path, mm) -> None:
    data = run(mm, world, "billing event queue outage", "--mode", "bundle")
    head = git(world, "rev-parse", "HEAD").strip()
    assert {"facts", "relations", "timeline", "entities"} <= data.keys()
    assert all(item["commit"] == head for key in ("facts", "relations", "timeline", "entities") for item in data[key])
    assert all("id" in item for key in ("facts", "timeline", "entities") for item in data[key])
    assert all({"source", "type", "target"} <= r.keys() for r in data["relations"])
    facts = {f["id"]: f for f in data["facts"]}
    assert OUTAGE in facts and "statement" in facts[OUTAGE]
    assert {"source": FIX, "type": "derived_from", "target": OUTAGE} in [
        {k: r[k] for k in ("source", "type", "target")} for r in data["relations"]
    ]
    dates = [e["date"] for e in data["timeline"]]
    assert dates == sorted(dates) and len(dates) >= 3
    assert "PRJ-billing" in [e["id"] for e in data["entities"]]
    # A bundle is JSON even without --json.
    assert json.loads(mm("recall", "outage", "--mode", "bundle", cwd=world).out)["mode"] == "bundle"


# -- history ------------------------------------------------------------------------


def test_at_a_date_answers_from_memory_as_it_was(repo: Path, mm) -> None:
    write_block(repo, {"id": "D-20260105-0000aa", "type": "decision", "title": "Ship invoices by email"})
    commit(repo, "email", when="2026-01-05T10:00:00+00:00")
    write_block(
        repo,
        {
            "id": "D-20260305-0000bb",
            "type": "decision",
            "title": "Ship invoices through the portal",
            "edges": {"supersedes": ["D-20260105-0000aa"]},
        },
    )
    write_block(
        repo, {"id": "D-20260105-0000aa", "type": "decision", "title": "Ship invoices by email", "status": "superseded"}
    )
    commit(repo, "portal", when="2026-03-05T10:00:00+00:00")
    assert ids(run(mm, repo, "ship invoices")) == ["D-20260305-0000bb"]
    assert ids(run(mm, repo, "ship invoices", "--at", "2026-02-01")) == ["D-20260105-0000aa"]
    assert ids(run(mm, repo, "ship invoices", "--at", "HEAD~1")) == ["D-20260105-0000aa"]


# -- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["   "], 2, "query is empty"),
        (["billing", "--mode", "guess"], 2, "unknown --mode 'guess'"),
        (["billing", "--type", "widget"], 2, "unknown type 'widget'"),
        (["billing", "--limit", "0"], 2, "--limit must be between"),
        (["x" * 5000], 2, "the limit is"),
        (["billing", "--at", "no-such-rev"], 2, "unknown revision"),
        (["billing", "--at", "1990-01-01"], 2, "at or before 1990-01-01"),
    ],
)
def test_bad_input_is_a_clear_error(world: Path, mm, args: list[str], code: int, message: str) -> None:
    result = mm("recall", *args, cwd=world)
    assert result.code == code and message in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("query", ['title:"(*billing?)" AND NOT [x TO y] ~2 ^3', "the of and", "!!!", "D-2026"])
def test_whoosh_syntax_and_stopwords_are_plain_text(world: Path, mm, query: str) -> None:
    for mode in ("similar", "verify", "intent", "diagnose", "bundle"):
        result = mm("recall", query, "--mode", mode, cwd=world)
        assert result.code == 0, result.err


def test_a_long_query_of_many_words_and_odd_characters_is_answered(world: Path, mm) -> None:
    # Just under the length limit, hundreds of distinct words (only the first 64 terms are searched),
    # control and bidi characters, emoji: an answer, never a traceback.
    words = " ".join(f"word{n}" for n in range(400))
    long_query = ("billing events PostgreSQL " + words)[: 4000 - 1]
    for query in (long_query, "billing\x00 events\x01 \u202e PostgreSQL 🙂", "\t\n  billing  \r\n"):
        for mode in ("similar", "verify", "intent", "diagnose", "bundle"):
            result = mm("recall", query, "--mode", mode, "--json", cwd=world)
            assert result.code == 0 and "Traceback" not in result.err, (mode, result.err)
    assert ids(run(mm, world, long_query))[0] == NEW_DECISION


def test_recall_needs_committed_memory(tmp_path: Path, mm) -> None:
    assert mm("init", str(tmp_path / "fresh"), cwd=tmp_path).code == 0
    result = mm("recall", "billing", cwd=tmp_path / "fresh")
    assert result.code == 3 and "nothing is committed yet" in result.err


def test_library_answer_matches_the_cli(world: Path, mm) -> None:
    answer = recall(Memory(world), "invoices stopped", mode="diagnose", limit=2)
    assert answer.to_json() == run(mm, world, "invoices stopped", "--mode", "diagnose", "--limit", "2")


# -- a generated corpus -----------------------------------------------------------------


def test_recall_on_a_generated_corpus_finds_each_block_by_its_title(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import corpus

    path = corpus.build_repo(tmp_path / "corpus", 120, seed=3, commits=2)
    memory = Memory(path)
    active = [b for b in memory.list() if b.status not in ("superseded", "revoked")]
    found = 0
    for block in active[:40]:
        hits = recall(memory, block.title, limit=5).hits
        found += block.id in [h.id for h in hits]
    assert found >= 38  # titles are short and some follow one pattern; nearly all land in the top 5


def test_recall_reports_a_slow_index_build_on_stderr(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mindmem.cli.progress import counter

    heard: list[tuple[int, int]] = []
    recall(Memory(world), "billing", progress=lambda done, total: heard.append((done, total)))
    assert heard and heard[-1][0] == heard[-1][1] > 0  # the first recall built the index
    report = counter("indexing memory", "blocks")
    report(200, 400)
    report(400, 400)
    assert capsys.readouterr().err == "\rindexing memory: 200/400 blocks\rindexing memory: 400/400 blocks\n"
    quiet = counter("indexing memory", "blocks", after=60.0)
    quiet(400, 400)
    assert capsys.readouterr().err == ""


def test_verify_prints_blocks_that_only_share_words_apart(repo: Path, mm) -> None:
    write_block(
        repo,
        {"id": "N-20260302-00bb03", "type": "note", "title": "API rate limit"},
        "The public API rate limit counts requests per minute, per key.",
    )
    commit(repo, "rate limit")
    data = run(mm, repo, "the API rate limit is 1200 requests per minute", "--mode", "verify")
    assert data["verdict"] == "unknown" and [e["id"] for e in data["related"]] == ["N-20260302-00bb03"]
    text = mm("recall", "the API rate limit is 1200 requests per minute", "--mode", "verify", cwd=repo).out
    related = text.split("related (shares words, says nothing either way):\n", 1)[1]
    assert related.startswith("  N-20260302-00bb03")
