"""Dates a question names, and whether a block was written then.

"What did we decide on 3 June, 2023?", "what broke in August 2023?": a memory block's `created` says when
it was written, and a question that names a day, a month or a year is often asking about what was written
then. Pure functions; `ranked` gives candidates written on the named date a prior (`ranking.DATE_PRIOR`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mindmem.search import ranking

if TYPE_CHECKING:
    from mindmem.search.view import Doc

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")  # fmt: skip
_MONTH = r"(?P<month>" + "|".join(m.capitalize() + "|" + m[:3].capitalize() for m in _MONTHS) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
# Most specific first: "3 June, 2023", "June 3, 2023", "June 2023", "3 June", "June 3", "June", "2023", ISO.
_FORMS = (
    rf"{_DAY} {_MONTH},? {_YEAR}",
    rf"{_MONTH} {_DAY}(?:,\s*| ){_YEAR}",
    rf"{_MONTH},? {_YEAR}",
    rf"{_DAY} {_MONTH}",
    rf"{_MONTH} {_DAY}\b(?!:)",
    _MONTH,
    _YEAR,
)
_DATE_RES = tuple(re.compile(rf"\b{form}\b") for form in _FORMS)
_ISO_RE = re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b")
# Month names that are also everyday words count only with a day or a year beside them.
_AMBIGUOUS = frozenset({"may", "march", "mar"})


@dataclass(frozen=True)
class Named:
    """A date as precise as the question gave it: None for what it left out."""

    year: int | None
    month: int | None
    day: int | None

    def matches(self, created: str) -> bool:
        """Whether an ISO time (`created`, "2023-06-03T13:56:00Z") falls on this date."""
        try:
            year, month, day = int(created[:4]), int(created[5:7]), int(created[8:10])
        except ValueError:
            return False
        return (
            (self.year is None or self.year == year)
            and (self.month is None or self.month == month)
            and (self.day is None or self.day == day)
        )


def named_dates(text: str) -> list[Named]:
    """The dates a question names, most specific reading of each span first, without overlaps."""
    found: list[Named] = []
    taken: list[tuple[int, int]] = []
    for match in (*_ISO_RE.finditer(text), *(m for rx in _DATE_RES for m in rx.finditer(text))):
        span = match.span()
        if any(span[0] < end and start < span[1] for start, end in taken):
            continue
        named = _named(match.groupdict())
        if named is not None:
            found.append(named)
            taken.append(span)
    return found


def _named(groups: dict[str, str | None]) -> Named | None:
    month_text, day, year = groups.get("month"), groups.get("day"), groups.get("year")
    month = None
    if month_text:
        month = int(month_text) if month_text.isdigit() else _month_number(month_text)
        if not month_text.isdigit() and month_text.lower() in _AMBIGUOUS and not (day or year):
            return None
    day_number = int(day) if day else None
    if day_number is not None and not 1 <= day_number <= 31:
        return None
    return Named(int(year) if year else None, month, day_number)


def _month_number(text: str) -> int:
    text = text.lower()
    return next(n for n, name in enumerate(_MONTHS, 1) if name.startswith(text[:3]))


def written_on(created: str, dates: list[Named]) -> bool:
    """Whether a block written at `created` was written on one of `dates`."""
    return any(d.matches(created) for d in dates)


def dated(docs: list[Doc], text: str) -> list[Doc]:
    """`docs` re-ranked with the prior for blocks written on a date the question names."""
    dates = named_dates(text)
    prior = ranking.DATE_PRIOR
    if not dates or not prior:
        return docs
    out = [replace(d, score=d.score * (1 + prior)) if written_on(d.created, dates) else d for d in docs]
    return sorted(out, key=lambda d: -d.score)
