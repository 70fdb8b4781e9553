"""A summary of every block in a snapshot (`Digest`), and the lookups incremental checks need.

A check of one staged block in a 10k-block repo must not parse 10k files. The
catalog holds a small digest per block file (kept in the blob-keyed cache), which
is enough to find a block's neighbours: who it links to, who links to it, and which
blocks share its constraint axis, its fact claim (subject + predicate) or its title
words. Only those blocks are then read in full.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any, NamedTuple

from mindmem.checks.safety import scan
from mindmem.checks.scopes import ScopeIndex
from mindmem.checks.wording import norm, norm_predicate, title_signature
from mindmem.store.blocks import Block

# Predicates that relate a subject to many objects at once; two facts with them never conflict.
MULTI_VALUED = frozenset(
    {
        "uses",
        "depends_on",
        "has",
        "includes",
        "contains",
        "supports",
        "member_of",
        "owns",
        "maintains",
        "works_on",
        "knows",
        "speaks",
        "integrates_with",
        "related_to",
        "reviewed_by",
        "tested_by",
        "mentions",
    }
)


class Digest(NamedTuple):
    """What other blocks need to know about one block to find it as a neighbour."""

    id: str
    type: str
    status: str
    axis: str | None  # normalised constraint axis
    scope: str | None  # the constraint's scope as written (canonicalised through entity names on lookup)
    subject: str | None  # fact subject as written (canonicalised through entity names on lookup)
    predicate: str | None  # normalised predicate of a fact that has a subject and an object
    words: tuple[str, ...]  # title signature words (wording.title_signature)
    positive: bool  # title polarity
    edges: tuple[tuple[str, str], ...]  # Block.all_edges(): explicit edges and body wiki links
    names: tuple[str, ...]  # an entity's normalised ID, title and aliases
    # The safety findings of the file's text (safety.scan), kept with the digest so unchanged files are
    # never scanned again; None when the digest was made from a Block without its text.
    hazards: tuple[tuple[str, str, str, int, str], ...] | None


# The contradiction buckets: live blocks by constraint axis (their digests, for the scope lookup), by
# fact claim and by title words (their IDs).
Buckets = tuple[dict[str, list[Digest]], dict[tuple[str, str], list[str]], dict[tuple[str, ...], list[str]]]


def digest(block: Block, text: str | None = None) -> Digest:
    """The digest of a block; with its file's `text`, the safety scan too."""
    is_claim = block.type == "fact" and block.subject and block.predicate and block.obj
    words, positive = title_signature(block.title)
    return Digest(
        block.id,
        block.type,
        block.status,
        norm(block.constraint.axis) if block.constraint else None,
        block.constraint.scope if block.constraint else None,
        block.subject if is_claim else None,
        norm_predicate(block.predicate) if is_claim and block.predicate else None,
        words,
        positive,
        tuple(block.all_edges()),
        tuple(norm(n) for n in (block.id, block.title, *block.aliases)) if block.type == "entity" else (),
        scan(text) if text is not None else None,
    )


def live(d: Digest | Block) -> bool:
    """Only active blocks state current truth; tasks are plans, not claims."""
    return d.status == "active" and d.type != "task"


class Catalog:
    """Digests of every block file in a snapshot (path -> Digest), with lazily built lookups.

    `focus`: the blocks whose contradiction candidates will be asked for (None: any block); the
    buckets then hold only what those blocks could meet, so an incremental check of one block
    does not index ten thousand.
    """

    def __init__(
        self,
        digests: Mapping[str, Digest],
        options: Mapping[str, Any] | None = None,
        focus: frozenset[str] | None = None,
    ) -> None:
        self.digests = digests
        self.focus = focus
        extra = (options or {}).get("multi_valued_predicates", ())
        self.multi_valued = MULTI_VALUED | {norm_predicate(p) for p in extra if isinstance(p, str)}
        self._canon: dict[str, str] = {}
        self._scope_indexes: dict[str | None, ScopeIndex] = {}
        self._incoming: dict[frozenset[str] | None, dict[str, list[tuple[str, str]]]] = {}

    @classmethod
    def of(cls, blocks: Iterable[tuple[str, Block]], options: Mapping[str, Any] | None = None) -> Catalog:
        return cls({path: digest(block) for path, block in blocks}, options)

    @cached_property
    def by_id(self) -> dict[str, Digest]:
        out: dict[str, Digest] = {}
        for d in self.digests.values():
            out.setdefault(d.id, d)
        return out

    def __contains__(self, block_id: object) -> bool:
        return block_id in self.by_id

    @cached_property
    def _paths(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for path, d in self.digests.items():
            out.setdefault(d.id, path)
        return out

    def path_of(self, block_id: str) -> str | None:
        """The file of a block (the first by path when an ID is duplicated, as `by_id` counts it)."""
        return self._paths.get(block_id)

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Normalised entity names (ID, title, aliases) -> entity ID."""
        out: dict[str, str] = {}
        for d in self.by_id.values():
            for name in d.names:
                out.setdefault(name, d.id)
        return out

    def canon(self, name: str) -> str:
        """A name as the catalog knows it: an entity ID if it names an entity, else normalised."""
        found = self._canon.get(name)
        if found is None:
            key = norm(name)
            found = self._canon[name] = self.aliases.get(key, key)
        return found

    def incoming(self, targets: frozenset[str] | None = None) -> dict[str, list[tuple[str, str]]]:
        """target ID -> [(source ID, edge type)], for `targets` only (None: every target; one pass either way)."""
        found = self._incoming.get(targets)
        if found is None:
            found = self._incoming[targets] = defaultdict(list)
            for d in self.by_id.values():
                for edge_type, target in d.edges:
                    if targets is None or target in targets:
                        found[target].append((d.id, edge_type))
        return found

    def claim(self, d: Digest) -> tuple[str, str] | None:
        """(canonical subject, predicate) of a single-valued fact claim, else None."""
        if d.predicate is None or d.subject is None or d.predicate in self.multi_valued:
            return None
        return self.canon(d.subject), d.predicate

    @cached_property
    def _buckets(self) -> Buckets:
        wanted: tuple[set[Any], set[Any], set[Any]] | None = None
        if self.focus is not None:
            ds = [self.by_id[i] for i in self.focus if i in self.by_id]
            wanted = ({d.axis for d in ds}, {d.predicate for d in ds}, {d.words for d in ds})
        by_axis: dict[str, list[Digest]] = defaultdict(list)
        by_claim: dict[tuple[str, str], list[str]] = defaultdict(list)
        by_title: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for d in self.by_id.values():
            if not live(d):
                continue
            if d.axis is not None and (wanted is None or d.axis in wanted[0]):
                by_axis[d.axis].append(d)
            if d.predicate is not None and (wanted is None or d.predicate in wanted[1]):
                claim = self.claim(d)
                if claim is not None:
                    by_claim[claim].append(d.id)
            if len(d.words) >= 2 and (wanted is None or d.words in wanted[2]):
                by_title[d.words].append(d.id)
        return by_axis, by_claim, by_title

    def candidates(self, block_id: str, incoming: Mapping[str, list[tuple[str, str]]]) -> set[str]:
        """IDs of live blocks that could contradict this one: explicit `contradicts` either way (`incoming`
        must cover `block_id`), same constraint axis and an overlapping scope, same fact claim, same title words."""
        d = self.by_id.get(block_id)
        if d is None:
            return set()
        _, by_claim, by_title = self._buckets
        out = {t for e, t in d.edges if e == "contradicts"}
        out.update(src for src, e in incoming.get(block_id, ()) if e == "contradicts")
        if d.axis is not None:
            out.update(self._axis_peers(d))
        claim = self.claim(d)
        if claim is not None:
            out.update(by_claim.get(claim, ()))
        if len(d.words) >= 2:
            out.update(by_title.get(d.words, ()))
        out.discard(block_id)
        return out

    def _axis_peers(self, d: Digest) -> list[str]:
        """The live blocks on `d`'s axis whose scopes overlap its scope (the only ones `d`'s constraint can
        contradict): found along the scope's prefixes, not by trying each block on the axis."""
        index = self._scope_indexes.get(d.axis)
        if index is None:
            members = self._buckets[0].get(d.axis, ())
            index = self._scope_indexes[d.axis] = ScopeIndex((self.canon(m.scope or ""), m.id) for m in members)
        return index.overlapping(self.canon(d.scope or ""))

    def neighbourhood(self, ids: frozenset[str]) -> set[str]:
        """The blocks a check of `ids` reads: themselves, their candidates, what they link to and what
        links to them, and every block reachable from those along `supersedes` (for chains and cycles)."""
        incoming = self.incoming(ids)
        out = set(ids)
        for block_id in ids:
            d = self.by_id.get(block_id)
            out |= self.candidates(block_id, incoming)
            out.update(t for _, t in (d.edges if d else ()))
            out.update(src for src, _ in incoming.get(block_id, ()))
        todo = list(out)
        while todo:
            d = self.by_id.get(todo.pop())
            for edge_type, target in d.edges if d else ():
                if edge_type == "supersedes" and target not in out:
                    out.add(target)
                    todo.append(target)
        return out
