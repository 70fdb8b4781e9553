"""How recall scores a document for free text: BM25F over the text fields, plus bounded signals.

Pure functions and constants; `index.IndexView.search` feeds them postings from the whoosh index.

- **Text** (title, headings, body; stemmed, question words left out): BM25F. A term's frequencies in
  the fields are weighted, length-normalised per field and added *before* saturation, so a word that
  is in both title and body counts once, a little more, not four times over.
- **Names** (capitalised names and IDs in the question): a name is also a text term, scored like any
  other word (a name every turn of a conversation holds is worth little). On top, a bounded
  bonus where the block is *about* it (its author, subject, constraint scope, or the entity
  itself) and a smaller one where it names it (`entities`): who said or is the subject of something
  is a signal, not a multiplier.
- **Tags** and explicit **block IDs** as before.
- **Time**: only a question that asks when ("When did ...?") gives blocks that say when something
  happened a mild prior (a few percent), never enough to lift a block that does not match. A question
  that names a date ("on 3 June, 2023", "in August") gives the candidates written then a prior (`dates`).
- **Long blocks** are also judged by their best passage (`passages`), its terms weighed by how few of the
  candidates' lines hold them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

K1 = 0.9
B = 0.5
# BM25F field weights: what a match in each text field is worth before saturation.
TEXT_WEIGHTS = {"title": 1.5, "headings": 1.5, "body": 1.0}
# Added per query name, times that name's idf in the field (bounded like a BM25 term at tf 1).
ABOUT_WEIGHT = 1.0
ENTITY_WEIGHT = 0.25
TAG_WEIGHT = 1.0
ID_WEIGHTS = {"id": 6.0, "subject": 2.0, "links": 1.5}
TIME_PRIOR = 0.05
# Passage scoring of long blocks (`passages`): a body of more than LONG_BODY terms (about four
# paragraphs) is also scored by its best window of PASSAGE_WINDOW consecutive non-blank lines, and
# that passage decides PASSAGE_WEIGHT of its score.
LONG_BODY = 100
PASSAGE_WINDOW = 3
PASSAGE_WEIGHT = 0.5
# A block written on a date the question names gets this share of its score on top (`dates`).
DATE_PRIOR = 0.4


@dataclass(frozen=True)
class Weights:
    """The knobs, in one value, so a benchmark can try others without touching module state."""

    k1: float = K1
    b: float = B
    title: float = TEXT_WEIGHTS["title"]
    headings: float = TEXT_WEIGHTS["headings"]
    body: float = TEXT_WEIGHTS["body"]
    about: float = ABOUT_WEIGHT
    entities: float = ENTITY_WEIGHT
    tags: float = TAG_WEIGHT
    time_prior: float = TIME_PRIOR

    def text(self, field: str) -> float:
        return float(getattr(self, field))


DEFAULT = Weights()
TEXT_FIELDS = tuple(TEXT_WEIGHTS)


def idf(documents: int, frequency: int) -> float:
    """Okapi idf, never negative: log(1 + (N - df + 0.5) / (df + 0.5))."""
    return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))


def saturate(tf: float, k1: float) -> float:
    """BM25's term-frequency curve: 0 at 0, 1 at tf 1 whatever k1, at most k1 + 1."""
    return tf * (k1 + 1) / (tf + k1)


def normalised(tf: float, length: float, average: float, b: float) -> float:
    """A field's term frequency divided by its length relative to the average (BM25's b)."""
    return tf / (1 - b + b * length / average) if average else tf


# The scoring legs recall fuses: BM25F only (an embedding leg was measured and not added: docs/recall.md).
LEGS = ("bm25f",)


def description(weights: Weights = DEFAULT) -> dict[str, object]:
    """The ranking knobs as data (for MCP `kernels`)."""
    return {
        "legs": list(LEGS),
        "model": "BM25F",
        "k1": weights.k1,
        "b": weights.b,
        "text_weights": {f: weights.text(f) for f in TEXT_FIELDS},
        "about_weight": weights.about,
        "entity_weight": weights.entities,
        "tag_weight": weights.tags,
        "id_weights": dict(ID_WEIGHTS),
        "time_prior": weights.time_prior,
        "passages": {
            "long_body": LONG_BODY,
            "window": PASSAGE_WINDOW,
            "weight": PASSAGE_WEIGHT,
            # A passage's terms are weighed among the candidates' lines, not whole blocks (`passages.line_idf`).
            "idf": "lines",
        },
        "date_prior": DATE_PRIOR,
    }


_WHEN_RE = re.compile(
    r"^\W*(?:when|since when|until when|how long ago|(?:what|which) (?:time|date|day|year|month))\b",
    re.IGNORECASE,
)


def asks_when(text: str) -> bool:
    return bool(_WHEN_RE.search(text))
