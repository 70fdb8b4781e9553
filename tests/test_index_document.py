"""What the index holds for a block: the prose short cut gives exactly the terms the Markdown parse gives."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from mindmem.search.document import parsed_sections, sections
from mindmem.search.terms import TEXT_ANALYZER

LINES = [
    "Alice said the queue limit is 600 messages.",
    "  two spaces before prose, and *emphasis*, `code` and [[N-20260101-000001]]",
    "# A heading",
    "Setext heading",
    "===",
    "---",
    "- an item",
    "* another item",
    "+ and another",
    "1. first",
    "10) tenth",
    "> quoted words",
    "```python",
    "```",
    "~~~",
    "    indented code words",
    "\tcode after a tab",
    "<div>html words</div>",
    "[ref]: https://example.invalid/page",
    "***",
    "_emphasis_ at the start",
    "2026 was the year of the move",
    "2.5 million",
    "- [ ] a task to do",
    "-     code in an item",
    "  - nested item",
    "- # heading in an item",
    "   ## heading with three spaces ##",
    "#hashtag is text",
    "####### seven is text",
    "-",
    "\\# escaped",
    "line\rwith a carriage return # x",
    "",
]


def terms(parts: tuple[list[str], list[str]]) -> tuple[Counter[str], Counter[str]]:
    headings, text = parts
    return tuple(Counter(t.text for t in TEXT_ANALYZER("\n".join(p))) for p in (headings, text))  # type: ignore[return-value]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(LINES), st.text(max_size=40)), max_size=8))
def test_sections_give_the_terms_of_the_markdown_parse(lines: list[str]) -> None:
    body = "\n".join(lines)
    assert terms(sections(body)) == terms(parsed_sections(body))


def test_headings_and_lists_are_read_without_the_parse() -> None:
    assert sections("## Plan\n\n- Ship it.\n1. Then rest.") == (["## Plan"], ["", "Ship it.", "Then rest."])
    assert sections("Plan\n---\n") == parsed_sections("Plan\n---\n") == (["Plan"], [])
