"""Absolute dates from the relative ones people write ("by Friday", "in two weeks"), given a reference date.

Pure. `find_dates(text, ref)` returns each expression with its span and resolved date.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = {name.lower(): n for n, name in enumerate(calendar.day_name)}
MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}  # fmt: skip

_NUM = r"(\d{1,3}|" + "|".join(NUMBERS) + r")"
_DAY = "|".join(WEEKDAYS)
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_PATTERNS = [
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("word", re.compile(r"\b(today|tonight|tomorrow|yesterday)\b", re.I)),
    ("in", re.compile(rf"\bin {_NUM} (day|week|month)s?\b", re.I)),
    ("ago", re.compile(rf"\b{_NUM} (day|week|month)s? ago\b", re.I)),
    ("next_unit", re.compile(r"\bnext (week|month)\b", re.I)),
    ("last_unit", re.compile(r"\blast (week|month)\b", re.I)),
    ("end_of", re.compile(r"\b(?:the )?end of (?:the )?(week|month)\b", re.I)),
    ("next_day", re.compile(rf"\bnext ({_DAY})\b", re.I)),
    ("last_day", re.compile(rf"\blast ({_DAY})\b", re.I)),
    ("on_day", re.compile(rf"\b(?:by|on|this|until|before) ({_DAY})\b", re.I)),
    ("month_day", re.compile(rf"\b({_MONTH})\.? (\d{{1,2}})(?:st|nd|rd|th)?(?:,? (\d{{4}})(?![-/]\d))?\b", re.I)),
    ("day_month", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTH})(?:,? (\d{{4}})(?![-/]\d))?\b", re.I)),
]


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    text: str
    value: date


def find_dates(text: str, ref: date, *, past: bool = False) -> list[DateMention]:
    """Every date expression in `text`, left to right, resolved against `ref`; overlapping matches dropped.

    A bare weekday ("on Saturday") is the next one, or with `past` (reports of what happened) the last one.
    """
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            value = _resolve("last_day" if past and kind == "on_day" else kind, m, ref)
            if value is not None:
                found.append(DateMention(m.start(), m.end(), m.group(0), value))
                taken.append((m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)


def _resolve(kind: str, m: re.Match[str], ref: date) -> date | None:
    groups = [g.lower() if g else g for g in m.groups()]
    if kind == "iso":
        return _safe(int(groups[0]), int(groups[1]), int(groups[2]))
    if kind == "word":
        return ref + timedelta(days={"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}[groups[0]])
    if kind in ("in", "ago"):
        count = NUMBERS.get(groups[0]) or int(groups[0])
        sign = 1 if kind == "in" else -1
        return _shift(ref, groups[1], sign * count)
    if kind in ("next_unit", "last_unit"):
        sign = 1 if kind == "next_unit" else -1
        if groups[0] == "week":
            monday = ref - timedelta(days=ref.weekday())
            return monday + timedelta(weeks=sign)
        return _shift(ref.replace(day=1), "month", sign)
    if kind == "end_of":
        if groups[0] == "week":
            return ref + timedelta(days=4 - ref.weekday() if ref.weekday() <= 4 else 6 - ref.weekday())
        return ref.replace(day=calendar.monthrange(ref.year, ref.month)[1])
    if kind in ("next_day", "on_day"):
        ahead = (WEEKDAYS[groups[0]] - ref.weekday()) % 7
        if kind == "next_day" or ahead == 0:
            ahead = ahead or 7
        return ref + timedelta(days=ahead)
    if kind == "last_day":
        back = (ref.weekday() - WEEKDAYS[groups[0]]) % 7 or 7
        return ref - timedelta(days=back)
    if kind == "month_day":
        return _month_day(MONTHS[groups[0]], int(groups[1]), groups[2], ref)
    if kind == "day_month":
        return _month_day(MONTHS[groups[1]], int(groups[0]), groups[2], ref)
    return None


def _month_day(month: int, day: int, year: str | None, ref: date) -> date | None:
    if year:
        return _safe(int(year), month, day)
    candidate = _safe(ref.year, month, day)
    # Without a year, a date far behind the reference most likely means next year's.
    if candidate is not None and (ref - candidate).days > 183:
        return _safe(ref.year + 1, month, day)
    return candidate


def _shift(ref: date, unit: str, count: int) -> date:
    if unit == "day":
        return ref + timedelta(days=count)
    if unit == "week":
        return ref + timedelta(weeks=count)
    month = ref.month - 1 + count
    year = ref.year + month // 12
    month = month % 12 + 1
    return ref.replace(year=year, month=month, day=min(ref.day, calendar.monthrange(year, month)[1]))


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
