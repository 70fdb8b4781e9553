"""Verify mode: the blocks that support or contradict a claim, and a verdict."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from mindmem.checks import contradictions
from mindmem.checks.context import CheckContext
from mindmem.search import index as idx
from mindmem.search.evidence import entities_named
from mindmem.search.ranked import Ask, neighbourhood, search
from mindmem.search.results import Evidence, Hit, Verification
from mindmem.store.blocks import ID_IN_TEXT_RE, TYPE_PREFIXES, Block
from mindmem.store.snapshot import Snapshot

SUPPORT_COVERAGE = 0.6
_ENTITY_PREFIXES = TYPE_PREFIXES["entity"]
_NEGATION_RE = re.compile(
    r"\b(?:not|no|never|none|nor|neither|without|avoid\w*|stop(?:ped)?|cannot|can't|won't|don't|doesn't|didn't|"
    r"isn't|aren't|wasn't|weren't|shouldn't|mustn't|must_not|should_not|instead of|rather than|drop(?:ped)?)\b",
    re.IGNORECASE,
)
_POSITIVE_MODALITIES = ("must", "should", "may")
# What kind of evidence each `mm check` contradiction code is, in verify's words.
_KINDS = {"MM-C001": "edge", "MM-C002": "constraint", "MM-C003": "constraint", "MM-C004": "constraint"}
_KINDS |= {"MM-C005": "fact", "MM-C006": "negation"}
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_VALUE_RE = re.compile(r"\b[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)+\b")


def verify(ask: Ask, claim: str) -> Verification:
    """Blocks that support the claim, contradict it, or are only related to it, and a verdict.

    supported: support and no contradiction; contradicted: any contradiction (memory disputes
    the claim, or disputes the blocks that support it); unknown: nothing agrees or disagrees
    with what the claim asserts (related blocks, which share only its words, are listed apart).
    """
    hits, _ = search(ask, claim)
    hits = hits[: ask.limit]
    docs = ask.view.docs(h.id for h in hits)
    blocks = {i: ask.view.block(d) for i, d in docs.items()}
    sides: dict[str, dict[str, Evidence]] = {"support": {}, "contradict": {}, "related": {}}
    read = _Claim.read(claim)
    for hit in hits:
        stance = _stance(read, blocks[hit.id])
        if stance is not None:
            side, kind, reason = stance
            sides[side][hit.id] = Evidence(hit, kind, reason)
    supporting, contradicting = sides["support"], sides["contradict"]
    if supporting:
        _disputed_support(ask, hits, blocks, supporting, contradicting)
    verdict = "contradicted" if contradicting else "supported" if supporting else "unknown"
    return Verification(
        claim,
        ask.commit,
        verdict,
        _strongest(supporting, ask.limit),
        _strongest(contradicting, ask.limit),
        related=_strongest(sides["related"], ask.limit),
    )


def _disputed_support(
    ask: Ask,
    hits: list[Hit],
    blocks: dict[str, Block],
    supporting: dict[str, Evidence],
    contradicting: dict[str, Evidence],
) -> None:
    """Add to `contradicting` the blocks in conflict with a supporter: by an explicit `contradicts` edge,
    or by the judgement of `mm check` (checks/contradictions.py) over the blocks found."""
    docs = ask.view.docs(supporting)
    g, near = neighbourhood(ask.view, docs.values(), depth=1, types=("contradicts",))
    for sid in supporting:
        for other in set(g.successors(sid)) | set(g.predecessors(sid)):
            if other in near and other not in supporting and ask.visible(near[other]):
                evidence = Evidence(ask.hit(near[other], 0.0), "edge", f"contradicts {sid} (explicit edge)")
                contradicting.setdefault(other, evidence)
    by_id = {h.id: h for h in hits}
    paths = {h.id: h.path for h in hits}
    ctx = CheckContext(Snapshot(ask.commit, blocks, paths), root="")
    for sid in list(supporting):
        for oid, other in blocks.items():
            if oid in supporting or oid == sid:
                continue
            finding = contradictions.judge(ctx, blocks[sid], other)
            if finding is not None:
                reason = f"{finding.code}: {finding.message} (vs {sid})"
                contradicting.setdefault(oid, Evidence(by_id[oid], _KINDS.get(finding.code, "check"), reason))


def _strongest(found: dict[str, Evidence], limit: int) -> tuple[Evidence, ...]:
    return tuple(sorted(found.values(), key=lambda e: (-e.hit.score, e.hit.id))[:limit])


@dataclass(frozen=True)
class _Claim:
    """A claim read once: its stemmed terms, plain words, names, and whether it is negated."""

    text: str
    terms: frozenset[str]
    words: frozenset[str]
    names: frozenset[str]
    negated: bool

    @classmethod
    def read(cls, text: str) -> _Claim:
        names = frozenset(n for n in idx.entity_terms(text) if "-" not in n)
        negated = bool(_NEGATION_RE.search(text))
        return cls(text, frozenset(idx.analyze(text)), frozenset(_words(text)), names, negated)


Stance = tuple[str, str, str]


def _stance(claim: _Claim, block: Block) -> Stance | None:
    """(side, kind, reason) of one block towards a claim; side is support, contradict or related, None
    when unrelated.

    Support needs agreement on what the claim asserts, never word overlap alone: the block's
    constraint or fact says the claim's object (constraint, fact), or a block on the claim's
    subject and topic gives the claim's number, identifier-like value or names (number, value,
    object). A differing number, value, object, name or modality contradicts (number, value,
    fact, substitution, negation, constraint). A block on the topic that does neither is related.
    """
    if not claim.terms:
        return None
    text = f"{block.title}\n{block.body}"
    block_terms = set(idx.analyze(text))
    shared = claim.terms & block_terms
    on_topic = len(shared) / len(claim.terms) >= SUPPORT_COVERAGE and (len(claim.terms) == 1 or len(shared) >= 2)
    if block.constraint is not None:
        found = _constraint_stance(claim, block, on_topic)
        if found is not None:
            return found
    if block.type == "fact" and block.subject and block.predicate and block.obj:
        if block.valid_to and block.valid_to <= date.today().isoformat():
            return None  # what held until then: history, not a statement about now
        if not set(idx.analyze(block.predicate.replace("_", " "))) <= claim.terms:
            # Another attribute of the subject (or another subject's): no evidence either way.
            return None
        said = f"{block.subject} {block.predicate} {block.obj}"
        if _names_entity(claim.words, block.subject):
            if set(_words(block.obj)) <= claim.words:
                return ("contradict", "negation", said) if claim.negated else ("support", "fact", said)
            return "contradict", "fact", f"{said}; the claim says otherwise"
    if not on_topic or not _same_subject(claim.words, block):
        return None
    return _text_stance(claim, block, text, shared)


def _constraint_stance(claim: _Claim, block: Block, on_topic: bool) -> Stance | None:
    c = block.constraint
    assert c is not None
    said = f"{c.scope} {c.modality} {c.obj} ({c.axis})"
    about = on_topic or _names_entity(claim.words, c.scope)
    if about and set(_words(c.obj)) <= claim.words:
        agrees = (c.modality in _POSITIVE_MODALITIES) != claim.negated
        return ("support" if agrees else "contradict"), "constraint", said
    # The block's own entities (subject, scope, linked people and projects) are not alternatives.
    own = {w for e in (block.subject, c.scope, block.author, *entities_named(block)) if e for w in _words(e)}
    others = claim.names - own
    if on_topic and c.modality in ("must", "should") and others:
        return "contradict", "constraint", f"{said}; the claim names {', '.join(sorted(others))}"
    return None


def _text_stance(claim: _Claim, block: Block, text: str, shared: set[str]) -> Stance:
    """The stance of a block on the claim's subject and topic, from what its text says."""
    sentence = _best_sentence(set(claim.terms), block)
    quoted = sentence.strip()[:160]
    claim_numbers = set(_NUMBER_RE.findall(claim.text))
    if claim_numbers and not claim_numbers & set(_NUMBER_RE.findall(text)):
        # Same topic, other numbers: the block says another amount; with no number it says none at all.
        said = set(_NUMBER_RE.findall(sentence))
        if said:
            return "contradict", "number", f"the block says {', '.join(sorted(said))}: {quoted}"
        return "related", "text", f"mentions {', '.join(sorted(shared))}, gives no number"
    claim_values, block_values = _values(claim.text), _values(text)
    if claim_values - block_values and block_values - claim_values:
        # A setting named like an identifier (half_up, half-even, us-east-1) that the block gives otherwise.
        return "contradict", "value", f"the block says {', '.join(sorted(block_values - claim_values))}"
    novel = claim.names - set(_words(text))
    missing = {n for n in idx.entity_terms(text) if "-" not in n} - claim.words
    if novel and missing and block.subject and block.type != "entity":
        names = f"the claim names {', '.join(sorted(novel))}, the block {', '.join(sorted(missing))}"
        return "contradict", "substitution", names
    if bool(_NEGATION_RE.search(sentence)) != claim.negated:
        return "contradict", "negation", f"the block says: {quoted}"
    if claim_numbers:
        return "support", "number", f"the block says {', '.join(sorted(claim_numbers))}: {quoted}"
    if claim_values & block_values:
        return "support", "value", f"the block says {', '.join(sorted(claim_values & block_values))}"
    if claim.names and not novel:
        return "support", "object", f"the block names {', '.join(sorted(claim.names))}: {quoted}"
    return "related", "text", f"mentions {', '.join(sorted(shared))}"


def _same_subject(claim_words: set[str], block: Block) -> bool:
    """Can the block speak to the claim: it has no subject, or the claim names it (a fact about another
    project that shares the claim's words is neither support nor contradiction)."""
    about = block.id if block.type == "entity" else block.subject
    return not about or _names_entity(claim_words, about)


def _values(text: str) -> set[str]:
    """Identifier-like values in text (half_up, half-even, us-east-1), `-` read as `_`; block IDs left out."""
    ids = {i.lower() for i in ID_IN_TEXT_RE.findall(text)}
    found = (v.lower() for v in _VALUE_RE.findall(text))
    return {v.replace("-", "_") for v in found if v not in ids and not v[0].isdigit()}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _names_entity(claim_words: set[str], entity: str) -> bool:
    """Does the claim name `entity`, by ID or by the words of its slug (PRJ-billing: billing)?"""
    prefix, _, slug = entity.partition("-")
    words = _words(slug if prefix in _ENTITY_PREFIXES else entity)
    return bool(words) and set(words) <= claim_words


def _best_sentence(terms: set[str], block: Block) -> str:
    sentences = [block.title, *re.split(r"(?<=[.!?])\s+|\n+", block.body)]
    return max(sentences, key=lambda s: len(terms & set(idx.analyze(s))))
