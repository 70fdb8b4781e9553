"""`ScopeIndex` finds exactly the scopes that overlap one, as `scopes.overlap` judges each pair."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mindmem.checks.scopes import ScopeIndex, overlap

# Scopes built from a few parts and the separators, so prefixes, extensions, near misses (`a-b`),
# wildcards and globs all turn up.
_PART = st.sampled_from(["a", "b", "ab", "a-b", "*", "a*", "?b", "[ab]", "all", "global", ""])
_SEP = st.sampled_from(["/", ".", ":", "-", ""])
_SCOPE = st.lists(st.tuples(_PART, _SEP), min_size=1, max_size=4).map(lambda ps: "".join(p + s for p, s in ps))


@settings(max_examples=400, deadline=None)
@given(st.lists(_SCOPE, max_size=30), _SCOPE)
def test_overlapping_scopes_are_those_overlap_accepts(scopes: list[str], asked: str) -> None:
    index = ScopeIndex((scope, f"item-{n}") for n, scope in enumerate(scopes))
    found = index.overlapping(asked)
    assert sorted(found) == sorted(f"item-{n}" for n, scope in enumerate(scopes) if overlap(asked, scope))
    assert len(found) == len(set(found))


def test_a_scope_meets_its_prefixes_extensions_wildcards_and_globs_only() -> None:
    scopes = ["PRJ-billing", "PRJ-billing/eu", "PRJ-billing/eu.db", "PRJ-billing-eu", "PRJ-bill", "global", "PRJ-*/eu"]
    index = ScopeIndex((scope, scope) for scope in scopes)
    assert sorted(index.overlapping("PRJ-billing/eu")) == sorted(
        ["PRJ-billing", "PRJ-billing/eu", "PRJ-billing/eu.db", "global", "PRJ-*/eu"]
    )
    assert sorted(index.overlapping("PRJ-billing-eu")) == ["PRJ-billing-eu", "global"]
    assert sorted(index.overlapping("*")) == sorted(scopes)
