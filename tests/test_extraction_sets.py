"""The labelled extraction sets (benchmarks/extraction) stay well formed: the scorer's figures rest on them."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import extract_score

ENTITY_ID = re.compile(r"^(?:PER|PRJ|TOOL|ORG)-[a-z0-9][a-z0-9-]*$")


@pytest.mark.parametrize("name", extract_score.SET_NAMES)
def test_every_label_is_a_known_type_found_in_its_document(name: str) -> None:
    documents = extract_score.load(name=name)  # exits naming the file when a span is not in its document
    assert documents, f"the set {name} has no documents"
    for doc, text, items in documents:
        assert items, f"{name}/{doc} has no labels"
        for item in items:
            assert item.type in extract_score.TYPES, f"{name}/{doc}: unknown type {item.type!r}"
            if item.type == "entity":
                assert ENTITY_ID.match(item.text), f"{name}/{doc}: {item.text!r} is not an entity ID"
            else:
                assert text[item.start : item.end] == item.text
            if item.due is not None:
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item.due), f"{name}/{doc}: due {item.due!r}"


def test_the_tuned_set_holds_the_thirty_documents_the_issue_asks_for() -> None:
    assert len(extract_score.load(name="docs")) >= 30
    assert len(extract_score.load(name="all")) == sum(len(extract_score.load(name=n)) for n in extract_score.SET_NAMES)
