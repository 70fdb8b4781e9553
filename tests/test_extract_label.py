"""The hybrid backend's labelling: the model judges, one word each, the sentences the rules left."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from mindmem.errors import BadInput
from mindmem.extract.base import Context
from mindmem.extract.hybrid import HybridExtractor
from mindmem.extract.label import LABELS, added, label, label_schema, worth_asking
from mindmem.extract.naming import kept_names
from mindmem.extract.rules import JUDGED_CONFIDENCE, RulesExtractor
from mindmem.store.snapshot import Snapshot

NOTES = (
    "# Weekly sync\n"
    "Dana: We decided to move the ledger to PostgreSQL.\n"
    "Lee: The image cache holds 40 GB on each node.\n"
    "Lee: who is on call next week?\n"
    "Dana: The checkout page threw errors for an hour on Sunday.\n"
    "Lee: thanks all\n"
)


class Scripted:
    """A stand-in for a model: answers each call with the next reply, and keeps what it was asked."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.asked: list[list[dict[str, str]]] = []

    def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int | None = None
    ) -> str:
        assert max_tokens is not None and max_tokens >= 12 * len(schema["required"])
        self.asked.append(messages)
        return self.replies.pop(0)


def _context() -> Context:
    return Context(date(2026, 11, 24), Snapshot(None), "notes.md")


def test_questions_and_scraps_are_never_asked_about() -> None:
    assert not worth_asking("who is on call next week?")
    assert not worth_asking("# Weekly sync")
    assert not worth_asking("thanks all")
    assert worth_asking("The image cache holds 40 GB on each node.")


def test_labels_come_back_in_order_for_the_sentences_asked_about() -> None:
    model = Scripted(json.dumps({"1": "fact", "2": "incident"}))
    sentences = ["who owns it?", "The cache holds 40 GB per node.", "thanks", "The checkout threw 500s all day."]
    heard: list[tuple[int, int]] = []
    assert label(model, sentences, lambda done, total: heard.append((done, total))) == [
        "none", "fact", "none", "incident"
    ]  # fmt: skip
    assert heard == [(0, 2), (2, 2)]
    (asked,) = model.asked
    assert asked[1]["content"] == "1: The cache holds 40 GB per node.\n2: The checkout threw 500s all day.\nReply:"
    assert asked[0]["role"] == "system" and "Example." in asked[0]["content"]


def test_the_schema_asks_for_exactly_one_known_label_per_sentence() -> None:
    schema = label_schema(3)
    assert schema["required"] == ["1", "2", "3"] and schema["additionalProperties"] is False
    assert all(prop["enum"] == list(LABELS) for prop in schema["properties"].values())


@pytest.mark.parametrize("reply", ["not json", json.dumps({"1": "fact"}), json.dumps({"1": "task", "2": "none"})])
def test_a_reply_that_does_not_label_every_sentence_is_an_error(reply: str) -> None:
    with pytest.raises(BadInput, match="labels"):
        label(Scripted(reply), ["The cache holds 40 GB per node.", "The checkout threw 500s all day."])


def test_the_rules_build_what_the_judge_labels_and_keep_their_own() -> None:
    alone = RulesExtractor().extract(NOTES, _context())
    asked: list[list[str]] = []

    def judge(sentences: list[str]) -> list[str]:
        asked.append(sentences)
        return ["fact" if "cache" in s else "none" for s in sentences]

    both = RulesExtractor().extract(NOTES, _context(), judge=judge)
    # The judge sees only what the rules did not recognise (the decision and the outage they did).
    assert "We decided to move the ledger to PostgreSQL." not in asked[0]
    assert "The image cache holds 40 GB on each node." in asked[0]
    added = [c for c in both.candidates if c not in alone.candidates]
    # The fact; its speaker was an entity already, as everyone named in any sentence is.
    assert [(c.type, c.id or c.span.text) for c in added] == [("fact", "The image cache holds 40 GB on each node.")]
    assert "PER-lee" in {c.id for c in alone.candidates}
    assert added[0].confidence == JUDGED_CONFIDENCE
    assert all(c in both.candidates for c in alone.candidates)


def _hybrid(model: Scripted) -> HybridExtractor:
    # The model is given, not loaded from a GGUF: what is tested is how hybrid uses its labels.
    return HybridExtractor.around(model)


NO_NAMES = json.dumps({"people": [], "tools": [], "projects": []})


def test_hybrid_adds_what_the_model_labels_and_keeps_the_rules_when_its_reply_is_unusable() -> None:
    rules = RulesExtractor().extract(NOTES, _context())
    found = _hybrid(Scripted(json.dumps({"1": "fact", "2": "none"}), NO_NAMES)).extract(NOTES, _context())
    assert found.backend == "hybrid" and not found.warnings
    assert [c.span.text for c in found.candidates if c.confidence == JUDGED_CONFIDENCE] == [
        "The image cache holds 40 GB on each node."
    ]
    # A decision the model sees where the rules saw none, in a sentence that states no choice: nothing is added.
    decided = _hybrid(Scripted(json.dumps({"1": "decision", "2": "none"}), NO_NAMES)).extract(NOTES, _context())
    assert decided.candidates == rules.candidates
    broken = _hybrid(Scripted("{}")).extract(NOTES, _context())
    assert broken.candidates == rules.candidates
    assert broken.warnings and broken.warnings[0].startswith("the model added nothing: the model's labels")


def test_an_incident_that_names_no_failure_is_read_as_a_fact() -> None:
    said = [
        "They moved to Notion last month.",  # a "decision" that states no choice: left out
        "The warehouse bill doubled in October.",  # "incident" that names no failure: a fact
        "The payment webhook failed twice last night.",  # a failure: the incident stands
        "hey all",
    ]
    assert added(["decision", "incident", "incident", "none"], said) == ["none", "fact", "incident", "none"]


@pytest.mark.parametrize(
    ("sentence", "kept"),
    [
        ("we'll switch the invoices to Adyen next quarter", True),
        ("We will move long-running jobs to Temporal; short ones stay.", True),
        ("ok, let's raise the threshold to 90 percent", True),
        ("Every new service needs an owner in the catalogue.", True),
        ("Old flags must be removed after a quarter.", True),
        ("Deploys to production now require a second reviewer.", True),
        ("finished the rate limiter, it's behind a flag for now", False),
        ("This PR lets the browser upload straight to S3.", False),  # "lets" is not "let's"
        ("since Monday, Yusuf changed the policy", False),
        ("I'll do it after lunch", False),
    ],
)
def test_a_decision_the_model_adds_must_state_a_choice_or_a_rule(sentence: str, kept: bool) -> None:
    assert added(["decision"], [sentence]) == (["decision"] if kept else ["none"])
    # A sentence that states one is a decision even when the model calls it a fact.
    assert added(["fact"], [sentence]) == (["decision"] if kept else ["fact"])


def test_hybrid_builds_a_decision_the_model_finds_in_a_sentence_that_states_one() -> None:
    text = (
        "Ops sync\n\nRosa: the disk alert fired 12 times last night.\nRosa: let's raise the threshold to 90 percent.\n"
    )
    labels = json.dumps({"1": "incident", "2": "decision"})
    found = _hybrid(Scripted(labels, NO_NAMES)).extract(text, _context())
    judged = [(c.type, c.title) for c in found.candidates if c.confidence == JUDGED_CONFIDENCE]
    assert judged == [
        ("incident", "The disk alert fired 12 times last night"),
        ("decision", "Let's raise the threshold to 90 percent"),
    ]


def test_hybrid_adds_the_names_the_model_finds_that_the_text_holds() -> None:
    text = "jules: the deploy job hangs again\nRabbitMQ is still on version 3.9.\nDana: see you in the EU call\n"
    names = {"people": ["jules", "Dana", "Zoe"], "tools": ["RabbitMQ", "EU", "deploy job", "Monday"], "projects": []}
    labels = json.dumps({"1": "none", "2": "none", "3": "none"})
    found = _hybrid(Scripted(labels, json.dumps(names))).extract(text, _context())
    assert not found.warnings
    # Dana the rules had (a speaker); Zoe is not in the text, EU an abbreviation, "deploy job" ordinary words.
    assert [c.id for c in found.candidates if c.type == "entity"] == ["PER-dana", "PER-jules", "TOOL-rabbitmq"]
    added = [c.span for c in found.candidates if c.id in ("PER-jules", "TOOL-rabbitmq")]
    assert [(text[s.start : s.end], s.text) for s in added] == [("jules", "jules"), ("RabbitMQ", "RabbitMQ")]
    # Names that are not lists cost the names, not the labels.
    broken = _hybrid(Scripted(json.dumps({"1": "fact", "2": "none"}), "[]")).extract(NOTES, _context())
    assert any(c.confidence == JUDGED_CONFIDENCE for c in broken.candidates)
    assert broken.warnings and broken.warnings[0].startswith("the model named nothing")


def test_a_name_counts_only_where_the_text_uses_it_as_one() -> None:
    text = (
        "- Weather was nice, nobody wanted to be inside.\n"
        "[09:12] jules: we prune docker images every night\n"
        "Ines: The API returns prices in cents, not euros.\n"
        "This change puts Varnish in front, and logs go via structlog. Let's go with date-fns.\n"
        "Lee: the App Store review takes five days.\n"
        "Kenji adds an alert; Cloudflare support helped, and the Adyen API is next.\n"
    )
    given = {
        "people": ["jules", "Ines", "Zoe", "Kenji"],
        "tools": [
            "Weather",
            "docker",
            "euros",
            "Varnish",
            "structlog",
            "date-fns",
            "App Store",
            "API",
            "review",
            "Adyen API",
            "Cloudflare support",
        ],
        "projects": ["deploy job"],
    }
    kept = [(name, prefix, text[start : start + len(name)]) for name, prefix, start in kept_names(given, text)]
    # A lone capitalised word opening a sentence does not count (Weather, Cloudflare, Ines, Kenji: small
    # models give ordinary words as people too). The ordinary words after a name are not part of it.
    assert kept == [
        ("jules", "PER", "jules"),
        ("Varnish", "TOOL", "Varnish"),
        ("structlog", "TOOL", "structlog"),
        ("date-fns", "TOOL", "date-fns"),
        ("App Store", "TOOL", "App Store"),
        ("Adyen", "TOOL", "Adyen"),
    ]
