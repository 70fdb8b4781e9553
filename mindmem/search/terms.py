"""Text analysis shared by what the index stores and what a query asks: stemmed terms, names, dates.

Pure functions over strings; whoosh supplies only the stemming analyzer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from whoosh.analysis import STOP_WORDS, Filter, StemmingAnalyzer
from whoosh.lang.porter import stem

from mindmem.store.blocks import ID_IN_TEXT_RE, TYPE_PREFIXES

_ENTITY_PREFIXES = TYPE_PREFIXES["entity"]
# Outside references such as incident tickets (INC-1234, OPS-42) are entities too.
_TICKET_RE = re.compile(r"\b[A-Z][A-Z0-9]{1,9}-\d+\b")
WORD_RE = re.compile(r"[A-Za-z][\w'-]*")
_SENTENCE_RE = re.compile(r"(?<=[.!?:;])\s+|\n+")
# Capitalised words that are not names even in the middle of a sentence.
_NOT_NAMES_TEXT = (
    "i i'm i've we we're you they he she it our my your their the a an this that these those and or but if then "
    "also what who whom whose when where why how which did does do is are was were can should could would will "
    "yes no not none"
)
NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())
# Words that shape a question but say nothing about what to find ("what did she say about X"): left
# out of the query's text terms. The index keeps them (a block may quote them); only queries skip them.
# "done" and "doing" stay: in a memory they are task states people search for.
_QUESTION_FUNCTION_WORDS = (
    "what which who whom whose where why how did does do was were has had would could should might "
    "shall i me my mine he him his she her hers they them their theirs its our ours there any some ever "
    "about tell know"
)

_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
_PERIODS = "morning afternoon evening night week weekend month year spring summer autumn fall winter"
TIME_RE = re.compile(
    rf"\b(?:yesterday|today|tonight|tomorrow|\d+ (?:days?|weeks?|months?|years?) ago|"
    rf"(?:last|next|this|that) (?:{'|'.join((_PERIODS + ' ' + _DAYS).split())})|"
    rf"(?:{'|'.join(_MONTHS.split())})|(?:{'|'.join(_DAYS.split())})s?|"
    rf"(?:19|20)\d\d(?:-\d\d-\d\d)?)\b",
    re.IGNORECASE,
)


class PrefixFilter(Filter):
    """Also yields a stemmed word without a common prefix ("overcharg" gives "charg" too), so "charged
    twice" finds "overcharged" and "misconfigured" finds "configured"."""

    # Few and long enough to be safe: "re" or "un" would turn "report" into "port", "until" into "til".
    PREFIXES = ("over", "mis")

    def __call__(self, tokens: Iterable[Any]) -> Iterable[Any]:
        prefixes = self.PREFIXES
        for token in tokens:
            yield token
            text = token.text
            if text.startswith(prefixes):  # one C call for the common case: no prefix
                rest = text[len(next(p for p in prefixes if text.startswith(p))) :]
                if len(rest) >= 5:
                    token.text = rest
                    yield token


TEXT_ANALYZER = StemmingAnalyzer() | PrefixFilter()

# `text_terms` is TEXT_ANALYZER without whoosh's token objects (a build analyses every block's text; the
# chain of generators was most of a document's cost). Same tokenizer pattern, stop list, minimum size and
# stemmer as StemmingAnalyzer's defaults; tests/test_index_document.py compares the two on random text.
_TOKEN_RE = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*")
_STOP_WORDS = STOP_WORDS
_STEMS: dict[str, tuple[str, ...]] = {}
MAX_STEMS = 200_000


def text_terms(text: str) -> list[str]:
    """The terms TEXT_ANALYZER gives for `text`, in order, repeats kept (a term's count is its frequency)."""
    out: list[str] = []
    stems = _STEMS
    for word in _TOKEN_RE.findall(text):
        word = word.lower()
        found = stems.get(word)
        if found is None:
            found = _terms_of(word)
            if len(stems) < MAX_STEMS:
                stems[word] = found
        out += found
    return out


def _terms_of(word: str) -> tuple[str, ...]:
    if len(word) < 2 or word in _STOP_WORDS:
        return ()
    stemmed = stem(word)
    prefix = next((p for p in PrefixFilter.PREFIXES if stemmed.startswith(p)), None)
    rest = stemmed[len(prefix) :] if prefix else ""
    return (stemmed, rest) if len(rest) >= 5 else (stemmed,)


_QUERY_SKIP = frozenset(t.text for t in TEXT_ANALYZER(_QUESTION_FUNCTION_WORDS, removestops=False))


def entity_terms(text: str) -> list[str]:
    """Entity terms in free text (a block or a query): block IDs and capitalised names, lowercase.

    A capitalised word counts as a name unless it starts a sentence; CamelCase and ALLCAPS words
    (PostgreSQL, AWS) count everywhere.
    """
    found = id_terms(ID_IN_TEXT_RE.findall(text)) + [t.lower() for t in _TICKET_RE.findall(text)]
    for sentence in _SENTENCE_RE.split(text):
        for position, word in enumerate(WORD_RE.findall(sentence)):
            if not word[0].isupper():
                continue
            # A possessive names the same entity: "Alice's" is alice.
            if word.endswith(("'s", "’s")):
                word = word[:-2]
            if word.lower() in NOT_NAMES:
                continue
            if position > 0 or any(ch.isupper() for ch in word[1:]):
                found.append(word.lower())
    return list(dict.fromkeys(found))


def id_terms(ids: Iterable[str]) -> list[str]:
    """An ID as a term, plus the words of an entity slug (PER-alice-smith -> alice, smith) so names match."""
    out: list[str] = []
    for block_id in ids:
        if not block_id:
            continue
        out.append(block_id.lower())
        prefix, _, slug = block_id.partition("-")
        if prefix in _ENTITY_PREFIXES:
            out += slug.lower().split("-")
    return out


def analyze(text: str) -> list[str]:
    """The stemmed terms the text fields hold for `text`, in order, without repeats."""
    return list(dict.fromkeys(text_terms(text)))


def query_terms(text: str) -> list[str]:
    """The stemmed terms a query searches the text fields for: `analyze` less the words that only
    shape a question (what, did, how, her ...)."""
    return [t for t in analyze(text) if t not in _QUERY_SKIP]


def utc(text: str) -> datetime:
    """A naive UTC datetime for whoosh, from an ISO date or time."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
