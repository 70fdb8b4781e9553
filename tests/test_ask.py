"""The rule router and `mm ask` on a real repo."""

from __future__ import annotations

import json

import pytest
from conftest import git

from mindmem.agents.ask import pick_call
from mindmem.agents.router import Call, route, ruled

CASES = [
    ("why did the billing export time out?", "recall", {"mode": "diagnose"}),
    ("is it true that we store billing events in MySQL?", "recall",
     {"mode": "verify", "query": "we store billing events in MySQL"}),
    ("who owns the deploy pipeline?", "recall", {"mode": "intent"}),
    ("brief me on the auth service", "recall", {"mode": "bundle"}),
    ("postgres partitioning", "recall", {"mode": "similar"}),
    ("approve P-20261125-abcdef", "staged_change", {"phase": "approve", "proposal": "P-20261125-abcdef"}),
    ("reject P-20261125-abcdef, it duplicates the old one", "staged_change", {"phase": "reject"}),
    ("roll back P-20261125-abcdef", "staged_change", {"phase": "rollback", "target": "P-20261125-abcdef"}),
    ("remember that we decided to use Kafka for events", "staged_change", {"phase": "propose"}),
    ("what do we know about PRJ-billing?", "compiled_truth", {"subject": "PRJ-billing"}),
    ("show D-20261125-7f3a9c", "core", {"action": "get", "id": "D-20261125-7f3a9c"}),
    ("list open tasks", "core", {"action": "list", "type": "task", "status": "todo"}),
    ("how many decisions are active?", "core", {"action": "list", "type": "decision", "status": "active"}),
    ("memory status", "core", {"action": "status"}),
    ("any contradictions in memory?", "graph", {"action": "contradict"}),
    ("what is related to D-20261125-7f3a9c", "graph", {"action": "expand", "id": "D-20261125-7f3a9c"}),
    ("before I start on PRJ-billing, load the context", "graph", {"action": "prefetch", "subject": "PRJ-billing"}),
    ("is memory intact?", "memory_verify", {}),
    ("what are the recall settings?", "kernels", {}),
    # Plain wordings the first rules sent to similar search.
    ("does the API really allow 1200 requests a minute", "recall", {"mode": "verify"}),
    ("what went wrong with the payment retries last week", "recall", {"mode": "diagnose"}),
    ("how many blocks are in memory", "core", {"action": "status"}),
    ("run the memory checks", "memory_verify", {}),
    ("which phases is this agent allowed", "kernels", {}),
    ("don't merge P-20261123-c0ffee, throw it out", "staged_change", {"phase": "reject"}),
    ("make a note that Varnish caches product pages", "staged_change", {"phase": "propose"}),
    ("what hangs off I-20261118-222222", "graph", {"action": "expand"}),
    # Ways of asking from benchmarks/routing/dev.txt (session 20), each a family the rules name.
    ("can you confirm the export runs at 2am", "recall", {"mode": "verify"}),
    ("we moved to Postgres 16, yes?", "recall", {"mode": "verify"}),
    ("troubleshoot the flaky payment test", "recall", {"mode": "diagnose"}),
    ("what's the verdict on the new CI provider", "recall", {"mode": "intent"}),
    ("give me a digest of the checkout project", "recall", {"mode": "bundle"}),
    ("every piece of context on the mobile release", "recall", {"mode": "bundle"}),
    ("edges of T-20261101-123456", "graph", {"action": "expand", "id": "T-20261101-123456"}),
    ("prep me for the ledger work", "graph", {"action": "prefetch"}),
    ("audit the repo history", "memory_verify", {}),
    ("what permissions does this agent have", "kernels", {}),
    ("memory health", "core", {"action": "status"}),
    ("P-20261102-bbbbbb should not go in", "staged_change", {"phase": "reject"}),
    ("P-20261102-bbbbbb can go in", "staged_change", {"phase": "approve"}),
    # Families from the misses on second.txt and dev.txt (session 21), in other words than theirs.
    ("fact-check: invoices go out on the 1st", "recall", {"mode": "verify"}),
    ("where did the stale cache entries originate? source of them, please", "recall", {"mode": "diagnose"}),
    ("the mobile build is red again, why?", "recall", {"mode": "diagnose"}),
    ("what did the board conclude on pricing", "recall", {"mode": "intent"}),
    ("deadline for the evidence collection", "recall", {"mode": "intent"}),
    ("gather what we have on the data retention policy", "recall", {"mode": "bundle"}),
    ("the whole account of the Redis outage", "recall", {"mode": "bundle"}),
    ("PRJ-billing: latest", "compiled_truth", {"subject": "PRJ-billing"}),
    ("I'd like to read F-20261101-abcdef", "core", {"action": "get", "id": "F-20261101-abcdef"}),
    ("which decisions do we have", "core", {"action": "list", "type": "decision"}),
    ("how large has memory grown", "core", {"action": "status"}),
    ("block counts per type", "core", {"action": "status"}),
    ("walk out from D-20261125-7f3a9c", "graph", {"action": "expand", "id": "D-20261125-7f3a9c"}),
    ("preload what matters for PRJ-billing", "graph", {"action": "prefetch"}),
    ("before I refactor the importer, what should I know", "graph", {"action": "prefetch"}),
    ("what capabilities does this agent have", "kernels", {}),
    ("which policy rules govern approvals here", "kernels", {}),
    ("redis settings for the session store", "recall", {"mode": "similar"}),
    ("validate the memory history", "memory_verify", {}),
    ("has anyone rewritten the memory log", "memory_verify", {}),
    ("are the merges signed", "memory_verify", {}),
    ("keep in memory that the office is closed on Fridays", "staged_change", {"phase": "propose"}),
    ("open a new task: rotate the signing keys", "staged_change", {"phase": "propose"}),
    ("thumbs up for P-20261102-bbbbbb", "staged_change", {"phase": "approve"}),
    ("veto P-20261102-bbbbbb", "staged_change", {"phase": "reject"}),
    ("closing P-20261102-bbbbbb without merging", "staged_change", {"phase": "reject"}),
    ("reverse D-20261125-7f3a9c", "staged_change", {"phase": "rollback", "target": "D-20261125-7f3a9c"}),
]  # fmt: skip


@pytest.mark.parametrize(("question", "tool", "expected"), CASES)
def test_router_picks_the_dispatcher_and_mode(question, tool, expected):
    call = route(question)
    assert call.tool == tool
    assert {k: call.arguments.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("question", "kind", "title"),
    [("new fact: the queue retries three times", "fact", "The queue retries three times"),
     ("file an incident: the login page was down", "incident", "The login page was down"),
     ("record a decision: we use Renovate", "decision", "We use Renovate"),
     ("add a new task: rotate the keys", "task", "Rotate the keys")],
)  # fmt: skip
def test_a_request_naming_a_type_proposes_that_type(question, kind, title):
    assert route(question).arguments["edits"] == [{"action": "add", "type": kind, "title": title}]


def test_the_rules_say_when_no_rule_matched():
    # "mm ask" with a model can ask it only then; a search asked for outright is a rule's call.
    assert ruled("postgres partitioning") is None
    assert route("postgres partitioning") == Call("recall", {"query": "postgres partitioning", "mode": "similar"})
    assert ruled("find notes about postgres partitioning") == route("find notes about postgres partitioning")


def test_router_turns_a_request_to_remember_into_an_edit():
    call = route("remember that we decided to use Kafka for events")
    assert call.arguments["edits"] == [
        {"action": "add", "type": "decision", "title": "We decided to use Kafka for events"}
    ]


@pytest.mark.parametrize(
    "question",
    ["write this down: we decided to use Renovate", "we decided to use Renovate, save that",
     "put in memory that we decided to use Renovate"],
)  # fmt: skip
def test_the_request_words_stay_out_of_the_title(question):
    assert route(question).arguments["edits"][0]["title"] == "We decided to use Renovate"


def test_mm_ask_answers_with_cited_blocks_and_never_approves(repo, mm):
    fact = mm("new", "fact", "-t", "The export job runs on Kubernetes", "-b", "In the eu-west cluster.", cwd=repo)
    pid = json.loads(mm("propose", "--json", "-r", "ops facts for the team", cwd=repo).out)["id"]
    assert mm("approve", pid, cwd=repo).code == 0
    fact_id = fact.out.strip()
    head = git(repo, "rev-parse", "main").strip()

    verify = json.loads(mm("ask", "is it true that the export job runs on Kubernetes?", "--json", cwd=repo).out)
    assert verify["call"]["tool"] == "recall" and verify["call"]["arguments"]["mode"] == "verify"
    assert verify["result"]["verdict"] == "supported"
    assert verify["commit"] == head and fact_id in [c["id"] for c in verify["cited"]]

    human = mm("ask", "show " + fact_id, cwd=repo)
    assert human.code == 0 and fact_id in human.out and "call: core(action='get'" in human.out

    proposed = json.loads(mm("ask", "remember that we decided to page on-call for export failures", "--json",
                             cwd=repo).out)  # fmt: skip
    new_pid = proposed["result"]["proposal"]
    trailer = git(repo, "log", "-1", "--format=%(trailers:key=Mm-Author,valueonly)", f"proposals/{new_pid}")
    assert trailer.strip() == "agent:ask"

    refused = mm("ask", f"approve {new_pid}", cwd=repo)
    assert refused.code == 3 and "a person must run `mm approve`" in refused.err
    assert git(repo, "rev-parse", "main").strip() == head


def test_ask_marks_superseded_blocks(repo, mm):
    mm("new", "project", "-t", "Billing", cwd=repo)
    old = mm("new", "decision", "-t", "Store billing events in MySQL", "--set", "subject=PRJ-billing", "-b", "x y",
             cwd=repo).out.strip()  # fmt: skip
    pid = json.loads(mm("propose", "--json", "-r", "billing storage decisions", cwd=repo).out)["id"]
    assert mm("approve", pid, cwd=repo).code == 0
    pid = json.loads(mm("propose", "--json", "-r", "postgres won the storage review", "--add", "decision",
                        "--set", "title=Store billing events in PostgreSQL", "--set", "subject=PRJ-billing",
                        "--supersede", old, cwd=repo).out)["id"]  # fmt: skip
    assert mm("approve", pid, cwd=repo).code == 0
    text = mm("ask", "what do we know about PRJ-billing?", cwd=repo).out
    [line] = [line for line in text.splitlines() if old in line]
    assert line.endswith("Store billing events in MySQL  [superseded]")
    assert "Store billing events in PostgreSQL" in text and "PostgreSQL  [" not in text


def test_with_a_model_the_rules_route_what_they_match_and_the_model_the_rest():
    asked: list[str] = []

    def model(question: str) -> Call | None:
        asked.append(question)
        return Call("recall", {"query": question, "mode": "verify"}) if "refunds" in question else None

    assert pick_call("show D-20261125-7f3a9c", model) == (route("show D-20261125-7f3a9c"), "rules")
    assert asked == []  # a rule matched: the model is not asked
    said = "my understanding is refunds need approval. does memory back that up"
    assert pick_call(said, model) == (Call("recall", {"query": said, "mode": "verify"}), "model")
    # No rule and no valid call from the model: the rules' search for similar blocks.
    assert pick_call("postgres partitioning", model) == (route("postgres partitioning"), "rules")
