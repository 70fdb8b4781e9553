"""When two constraint scopes overlap, and finding the scopes that overlap one without trying them all.

Scopes are compared in canonical form (an entity ID if the scope names an entity, else normalised;
`Catalog.canon`). Two overlap when they are equal, either is a wildcard, a glob matches the other,
or one is a path-like prefix of the other (`PRJ-billing` and `PRJ-billing/eu`).

A whole-tree check pairs every constraint with the others on its axis; at 100,000 blocks an axis
holds hundreds, and judging every pair was most of `mm check` (docs/benchmarks.md). `ScopeIndex`
names the ones whose scopes can overlap by dictionary lookups along the scope's prefixes.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator

WILDCARD_SCOPES = frozenset({"*", "**", "all", "any", "global", "everything", "everywhere"})
SCOPE_SEPARATORS = ("/", ".", ":")
_GLOB = re.compile(r"[*?\[]")


def overlap(a: str, b: str) -> bool:
    """Whether two canonical scopes overlap: equal, a wildcard, a glob match, or a path-like prefix."""
    if a == b or a in WILDCARD_SCOPES or b in WILDCARD_SCOPES:
        return True
    if _GLOB.search(a) or _GLOB.search(b):
        return fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a)
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return long.startswith(short) and long[len(short)] in SCOPE_SEPARATORS


def _loose(scope: str) -> bool:
    """A scope that may overlap scopes that are not its prefixes or extensions."""
    return scope in WILDCARD_SCOPES or _GLOB.search(scope) is not None


def _prefixes(scope: str) -> Iterator[str]:
    """The scopes this one extends: each cut just before a separator (`a/b.c` gives `a` and `a/b`)."""
    return (scope[:i] for i, ch in enumerate(scope) if ch in SCOPE_SEPARATORS)


class ScopeIndex:
    """Items (block IDs) by canonical scope, answering "which items' scopes overlap this one"."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        """`items`: (canonical scope, item) pairs."""
        self.exact: dict[str, list[str]] = defaultdict(list)
        for scope, item in items:
            self.exact[scope].append(item)
        self.below: dict[str, list[str]] = defaultdict(list)  # prefix -> the scopes extending it
        self.loose = [scope for scope in self.exact if _loose(scope)]
        for scope in self.exact:
            for prefix in _prefixes(scope):
                self.below[prefix].append(scope)

    def overlapping(self, scope: str) -> list[str]:
        """The items whose scopes overlap `scope`, in the order of their scopes (each scope once)."""
        if _loose(scope):
            scopes: Iterable[str] = [s for s in self.exact if overlap(scope, s)]
        else:
            near = [scope, *_prefixes(scope), *self.below.get(scope, ()), *self.loose]
            scopes = [s for s in dict.fromkeys(near) if s in self.exact and overlap(scope, s)]
        return [item for s in scopes for item in self.exact[s]]
