"""Text normalisation the contradiction checks share: names, predicates and title polarity.

Pure functions on strings.
"""

from __future__ import annotations

import functools
import re

_STOP_TEXT = """
a an the to for of in at by with we our us is are be been being should must shall will would do does did
any all and or as from into this that it its always only ca wo also
"""
STOPWORDS = frozenset(_STOP_TEXT.split())
NEGATIONS = frozenset({"not", "no", "never", "nor", "without"})
# Before a verb in -ing these negate it ("stop using"); elsewhere "stop" is the antonym of "start".
STOPPING = frozenset({"stop", "quit", "cease"})
# word -> (canonical word, polarity); the second word of each pair is the negative one.
_ANTONYM_PAIRS = (
    ("use", "avoid"),
    ("enable", "disable"),
    ("allow", "forbid"),
    ("allow", "deny"),
    ("allow", "prohibit"),
    ("allow", "ban"),
    ("allow", "disallow"),
    ("permit", "forbid"),
    ("include", "exclude"),
    ("add", "remove"),
    ("keep", "drop"),
    ("start", "stop"),
    ("accept", "reject"),
    ("require", "skip"),
    ("open", "close"),
    ("on", "off"),
    ("public", "private"),
    ("increase", "decrease"),
    ("mandatory", "optional"),
    ("allowlist", "denylist"),
    ("true", "false"),
)


def _forms(verb: str) -> set[str]:
    stem = verb[:-1] if verb.endswith("e") else verb
    return {verb, verb + "s", verb + "d" if verb.endswith("e") else verb + "ed", stem + "ing"}


LEXICON: dict[str, tuple[str, bool]] = {}
for _pos, _neg in _ANTONYM_PAIRS:
    for _form in _forms(_pos):
        LEXICON.setdefault(_form, (_pos, True))
    for _form in _forms(_neg):
        LEXICON.setdefault(_form, (_pos, False))
_WORD = re.compile(r"[a-z0-9][a-z0-9+#.]*[a-z0-9+#]|[a-z0-9]")


def title_signature(title: str) -> tuple[tuple[str, ...], bool]:
    """(content words with antonyms folded, positive?) of a title; "Do not disable X" == "Enable X"."""
    text = title.lower().replace("n't", " not").replace("’", "'")
    positive = True
    words: set[str] = set()
    tokens = _WORD.findall(text)
    for i, word in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if word in NEGATIONS or (word in STOPPING and following.endswith("ing") and following in LEXICON):
            positive = not positive  # "stop using X" says "do not use X"
        elif word in LEXICON:
            canonical, polarity = LEXICON[word]
            positive = positive if polarity else not positive
            words.add(canonical)
        elif word not in STOPWORDS:
            words.add(word)
    return tuple(sorted(words)), positive


# A whole-tree check compares millions of candidate pairs, each normalising the same few axes and
# predicates again (3.5 million calls in `mm check` of 100,000 generated blocks).
@functools.lru_cache(maxsize=1 << 16)
def norm(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().lower())


@functools.lru_cache(maxsize=1 << 16)
def norm_predicate(text: str) -> str:
    return re.sub(r"[\s-]+", "_", text.strip().lower())
