"""The text of the last JSON listing and what splicing it needs, so listing after k block files
changed costs k rows (plus finding the change), not a row per block.

Two files in the blocks cache, each written to a temporary file and renamed into place:

- `listing-json`: {digest of the (path, blob id) entries listed: the listing's text}; listing
  unchanged memory reads only this;
- `listing-kept`: the same digest; the entries, in path order, as one string (`joined`: finding
  what changed is comparing two lists of strings, mostly equal); and per row in the listing's order
  its path, `created`, ID and the length of its fragment of the text, as strings joined by NUL and
  an array (loaded in milliseconds, where 100,000 tuples take a tenth of a second).

The pair is used only when both name the same digest and their sizes agree with each other and
with the text. Anything else (missing, damaged, another format, or the halves of two writers that
ran at once) reads as nothing kept, and the listing is made from the rows of every block.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from mindmem.store.files import read_store, write_store

TEXT = "listing-json"
KEPT = "listing-kept"
_COLUMNS = ("paths", "created", "ids")
_LENGTH = "I"  # a fragment is one block's frontmatter: far below 4 GiB
# Entries are "path NUL blob id", joined by two NULs: no path holds a NUL, and neither part is empty.
_SEP = "\0\0"
# Up to this many values, looking each up in a list (a scan in C) beats building a dict of all of them.
_FEW = 16


@dataclass(frozen=True)
class Kept:
    """A listing's text; its entries in path order (`joined`); per row in its order, where it came
    from and what orders it."""

    text: str = "[]"
    joined: str = ""
    paths: Sequence[str] = ()
    created: Sequence[str] = ()
    ids: Sequence[str] = ()
    lengths: array[int] = field(default_factory=lambda: array(_LENGTH))

    def fragments(self, runs: Iterable[tuple[int, int]]) -> Iterable[str]:
        """The text of each run of rows [start, stop) (in order, apart), its fragments joined by ", "."""
        lengths, begin, row = self.lengths, 1, 0  # row `row` begins at `begin` in the text
        for start, stop in runs:
            begin += sum(lengths[row:start]) + 2 * (start - row)
            end = begin + sum(lengths[start:stop]) + 2 * (stop - start - 1)
            yield self.text[begin:end]
            begin, row = end + 2, stop

    def changes(self, lines: list[str]) -> tuple[set[int], list[int]]:
        """(positions in the listing of the rows whose entries are not in `lines`; indexes in `lines`
        of the entries it lacks): `lines` as `entry_lines` gives them, in path order."""
        old = self.joined.split(_SEP) if self.joined else []
        same = min(len(old), len(lines))
        start = next((n for n, pair in enumerate(zip(old, lines, strict=False)) if pair[0] != pair[1]), same)
        tail = zip(reversed(old[start:]), reversed(lines[start:]), strict=False)
        end = next((n for n, pair in enumerate(tail) if pair[0] != pair[1]), same - start)
        old, new = old[start : len(old) - end], lines[start : len(lines) - end]
        had, have = set(old), set(new)
        gone = positions(self.paths, [line.partition("\0")[0] for line in old if line not in have])
        return set(gone.values()), [start + n for n, line in enumerate(new) if line not in had]


def entry_lines(entries: Iterable[tuple[str, str]]) -> tuple[list[str], str, str]:
    """(each (path, blob id) as one string, in order; those joined; the digest that names them all)."""
    lines = list(map("\0".join, entries))
    joined = _SEP.join(lines)
    return lines, joined, hashlib.sha1(joined.encode(), usedforsecurity=False).hexdigest()


def positions(values: Sequence[str], wanted: Iterable[str]) -> dict[str, int]:
    """value -> its position in `values` (whose values are unique), for those of `wanted` there."""
    wanted = list(wanted)
    if len(wanted) > _FEW:
        where = {value: n for n, value in enumerate(values)}
        return {value: where[value] for value in wanted if value in where}
    found = {}
    for value in wanted:
        try:
            found[value] = values.index(value)
        except ValueError:
            continue
    return found


def kept_text(folder: Path, fmt: str, digest: str) -> tuple[str | None, dict[str, Any]]:
    """(the kept text if it was made for `digest`, else None; the text store as read)."""
    texts = read_store(folder / TEXT, fmt)
    return texts.get(digest), texts


def load(folder: Path, fmt: str, texts: dict[str, Any]) -> Kept:
    """The kept listing whose text is in `texts` (as `kept_text` read it); empty if the pair does not hold."""
    stored = read_store(folder / KEPT, fmt)
    digest = stored.get("digest")
    text = texts.get(digest) if isinstance(digest, str) else None
    try:
        joined, lengths = stored["joined"], array(_LENGTH, stored["lengths"])
        count = len(lengths)
        columns = [stored[name].split("\0") if count else [] for name in _COLUMNS]
    except (KeyError, TypeError, ValueError, AttributeError):
        return Kept()
    if not isinstance(text, str) or not isinstance(joined, str) or any(len(c) != count for c in columns):
        return Kept()
    if len(text) != sum(lengths) + 2 * max(count - 1, 0) + 2 or joined.count(_SEP) != max(count - 1, 0):
        return Kept()
    return Kept(text, joined, *columns, lengths=lengths)


def save(folder: Path, fmt: str, digest: str, kept: Kept) -> None:
    """Keep `kept` as the listing of the entries `digest` names (the rows first: see `load`)."""
    columns = {name: "\0".join(getattr(kept, name)) for name in _COLUMNS}
    stored = {"digest": digest, "joined": kept.joined, **columns, "lengths": kept.lengths.tobytes()}
    write_store(folder / KEPT, fmt, stored)
    write_store(folder / TEXT, fmt, {digest: kept.text})


def spliced(kept: Kept, gone: set[int], new: list[tuple[tuple[Any, ...], str]], joined: str) -> Kept:
    """`kept` without the rows at positions `gone` and with the `new` rows ((row, path); a row is a
    `Listed` as a plain tuple), in listing order, for the entries `joined` (`entry_lines`). IDs
    must be unique across the result, so `created` and ID order the rows as their whole tuples do."""
    new = sorted(new)
    keys = range(len(kept.ids))
    at = [bisect_left(keys, row[:2], key=lambda n: (kept.created[n], kept.ids[n])) for row, _ in new]
    pieces = _pieces(len(keys), gone, at)
    texts = iter(kept.fragments(piece for piece in pieces if isinstance(piece, tuple)))
    parts = ["["]
    for n, piece in enumerate(pieces):
        parts.extend((", " if n else "", next(texts) if isinstance(piece, tuple) else new[piece][0][-1]))
    parts.append("]")

    def column(old: Sequence[Any], values: Iterable[Any]) -> list[Any]:
        added = list(values)
        return list(chain.from_iterable(old[p[0] : p[1]] if isinstance(p, tuple) else (added[p],) for p in pieces))

    return Kept(
        "".join(parts),
        joined,
        column(kept.paths, (path for _, path in new)),
        column(kept.created, (row[0] for row, _ in new)),
        column(kept.ids, (row[1] for row, _ in new)),
        array(_LENGTH, column(kept.lengths, (len(row[-1]) for row, _ in new))),
    )


def _pieces(count: int, gone: set[int], at: list[int]) -> list[tuple[int, int] | int]:
    """The new order: runs (start, stop) of kept rows, and the index of each new row, which goes
    before the kept row at its position `at` (so before a removed row with the same key)."""
    pieces: list[tuple[int, int] | int] = []
    start = 0
    for position, removed, n in sorted([*((p, False, n) for n, p in enumerate(at)), *((g, True, 0) for g in gone)]):
        if position > start:
            pieces.append((start, position))
        start = position + 1 if removed else position
        if not removed:
            pieces.append(n)
    if start < count:
        pieces.append((start, count))
    return pieces
