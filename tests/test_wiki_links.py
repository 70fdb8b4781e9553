"""Wiki links in a block's body: found outside code only, in every form Obsidian writes, counted as
relates_to once; the regex fast path finds what the CommonMark parse finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mindmem.store import blocks as b
from mindmem.store.blocks import parse
from mindmem.store.format.links import wiki_links_parsed

BLOCK = "---\nid: T-20261125-000009\ntype: task\ntitle: t\nstatus: todo\ncreated: 2026-11-25\n---\nbody\n"


def test_wiki_links_are_found_in_prose_only() -> None:
    text = """\
See [[F-20261120-aa10f3]] and *also* [[PER-alice]], twice: [[PER-alice]].
A link [about [[T-20261125-000001]]](https://example.com) counts.

Inline `[[D-20261125-000002]]` code does not count.

```
[[D-20261125-000003]] in a fence
```

~~~md
[[D-20261125-000004]] in a tilde fence
~~~

    [[D-20261125-000005]] in indented code

- a list item [[I-20261125-000006]]
> quoted [[N-20261125-000007]]

[[not-an-id]] and [[ D-20261125-000008 ]] are ignored.
"""
    assert b.wiki_links(text) == (
        "F-20261120-aa10f3",
        "PER-alice",
        "T-20261125-000001",
        "I-20261125-000006",
        "N-20261125-000007",
    )


def test_wiki_links_count_as_relates_to_once() -> None:
    block = parse(BLOCK.replace("---\nbody", "edges: {relates_to: [PER-bob]}\n---\n[[PER-bob]] [[PRJ-x]]"), "t.md")
    assert list(block.all_edges()) == [("relates_to", "PER-bob"), ("relates_to", "PRJ-x")]


def test_obsidian_alias_and_heading_links_are_wiki_links() -> None:
    text = "See [[D-20261125-000001|the old choice]], [[F-20261120-aa10f3#Why it matters]] and [[PER-alice#^a1|Al]]."
    assert b.wiki_links(text) == ("D-20261125-000001", "F-20261120-aa10f3", "PER-alice")


FRAGMENTS = [
    "[[D-20261125-000001]]", "[[PER-alice|Al]]", "[[F-20261120-aa10f3#Why]]", "[[ D-20261125-000002 ]]",
    "[[not an id]]", "[[", "]]", "[", "]", "(", ")", "`", "``", "*", "_", "**", "<b>", "&amp;", "\\", "|", "#",
    "~~~", "```", "\n", "\n\n", "    ", "\t", "> ", "- ", "1. ", "# ", ": ", "x", "word", " ", "http://x.y",
    "]:", "]]:", '"', " 'title ", "[x]: ", "[[x]]",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30))
def test_the_plain_text_fast_path_finds_what_the_parser_finds(parts: list[str]) -> None:
    body = "".join(parts)
    assert b.wiki_links(body) == wiki_links_parsed(body)
