"""What a model reads in a block, for the safety check: decoded values and normalised text.

A person sees `Ig\\x01nore`, `Ign\u200bore` or a Cyrillic `о` as the word it looks like, and so
does a model after tokenising; a pattern on the raw text does not. `normalised` gives the text
as read (ANSI escapes removed, NFKC, invisible and control characters dropped, look-alike
letters mapped to Latin, line breaks read as spaces) with, for each character, the offset it
came from, so findings still name the right line. `decoded_values` gives the frontmatter
strings YAML would hand to an agent (`"\\U000E0041"` is a tag character once decoded).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# Cyrillic and Greek letters that look like Latin ones (NFKC keeps them apart on purpose).
CONFUSABLES = str.maketrans(
    {
        **dict.fromkeys("аɑα", "a"), **dict.fromkeys("ЬЪ", "b"), **dict.fromkeys("сϲ", "c"), "ԁ": "d",
        **dict.fromkeys("еєε", "e"), "ɡ": "g", **dict.fromkeys("һ", "h"), **dict.fromkeys("іιӏ", "i"),
        "ј": "j", **dict.fromkeys("κк", "k"), **dict.fromkeys("ⅼ", "l"), **dict.fromkeys("ոп", "n"),
        **dict.fromkeys("оοσ", "o"), **dict.fromkeys("рρ", "p"), "ԛ": "q", **dict.fromkeys("г", "r"),
        "ѕ": "s", **dict.fromkeys("тτ", "t"), **dict.fromkeys("υս", "u"), **dict.fromkeys("νѵ", "v"),
        **dict.fromkeys("ԝѡ", "w"), **dict.fromkeys("хχ", "x"), **dict.fromkeys("уγ", "y"),
        **dict.fromkeys("АΑ", "A"), **dict.fromkeys("ВΒ", "B"), **dict.fromkeys("СϹ", "C"),
        **dict.fromkeys("ЕΕ", "E"), **dict.fromkeys("НΗ", "H"), **dict.fromkeys("ІΙ", "I"), "Ј": "J",
        **dict.fromkeys("КΚ", "K"), **dict.fromkeys("МΜ", "M"), "Ν": "N", **dict.fromkeys("ОΟ", "O"),
        **dict.fromkeys("РΡ", "P"), **dict.fromkeys("ЅՏ", "S"), **dict.fromkeys("ТΤ", "T"),
        **dict.fromkeys("ХΧ", "X"), **dict.fromkeys("УΥ", "Y"), "Ζ": "Z",
    }
)  # fmt: skip
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])|\x9b[0-?]*[ -/]*[@-~]")
# Characters worth the slow path: anything outside printable ASCII, or an escape.
NEEDS_NORMALISING = re.compile(r"[^\t\n\r\x20-\x7e]")
_DROP_RANGES = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))  # variation selectors: invisible, not format (Cf)


@dataclass(frozen=True)
class View:
    """Text as read, and for each of its characters the offset in the original text."""

    text: str
    offsets: tuple[int, ...]

    def source_offset(self, index: int) -> int:
        return self.offsets[min(index, len(self.offsets) - 1)] if self.offsets else 0


def normalised(text: str) -> View | None:
    """The text as a reader takes it, or None when it reads the same as written (apart from line breaks)."""
    if NEEDS_NORMALISING.search(text) is None:
        return None
    out: list[str] = []
    offsets: list[int] = []
    ansi = {m.start(): m.end() for m in ANSI.finditer(text)}
    i = 0
    while i < len(text):
        if i in ansi:
            i = ansi[i]
            continue
        ch = text[i]
        for piece in _read_as(ch):
            out.append(piece)
            offsets.append(i)
        i += 1
    return View("".join(out), tuple(offsets))


def _read_as(ch: str) -> str:
    if ch in "\n\r":
        return " "
    code = ord(ch)
    if ch.isascii() and ch.isprintable():
        return ch
    category = unicodedata.category(ch)
    if category in ("Cf", "Cc") or any(lo <= code <= hi for lo, hi in _DROP_RANGES):
        return "" if ch != "\t" else " "
    return unicodedata.normalize("NFKC", ch).translate(CONFUSABLES)


def decoded_values(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line, string) for frontmatter scalars whose decoded form is not in the file as written.

    Only double-quoted YAML has escapes, so without a backslash in the frontmatter there is nothing
    to decode. Reads parser events, which never expand aliases, so a bomb costs nothing here.
    """
    if not text.startswith("---"):
        return
    end = text.find("\n---", 3)
    frontmatter = text[3 : end if end != -1 else len(text)]
    if "\\" not in frontmatter:
        return
    import yaml  # the pre-commit hook checks canonical blocks without loading PyYAML

    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    try:
        for event in yaml.parse(frontmatter, Loader=loader):
            if isinstance(event, yaml.ScalarEvent) and event.value not in text:
                yield (event.start_mark.line + 1 if event.start_mark else 1), event.value
    except yaml.YAMLError:
        return
