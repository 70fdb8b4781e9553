"""The frontmatter as Obsidian writes it: files in its style round-trip unchanged, and the fast reader of
the canonical dialect reads exactly what PyYAML reads."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mindmem.store.blocks import parse, render
from mindmem.store.format import dialect
from mindmem.store.format.fast_yaml import IMPLICIT_RESOLVERS, NON_PRINTABLE, canonical_meta, reads_as_plain

OBSIDIAN = sorted((Path(__file__).parent / "fixtures" / "obsidian").glob("*.md"))


@pytest.mark.parametrize("path", OBSIDIAN, ids=lambda p: p.name)
def test_files_in_obsidian_style_round_trip_unchanged(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert render(parse(text, path.name)) == text


def test_flow_style_lists_are_rewritten_in_obsidian_style() -> None:
    old = (
        "---\nid: N-20261201-0a1b2c\ntype: note\ntitle: 'Weekly sync: billing'\nstatus: active\n"
        "created: 2026-12-01\ntags: [ops, billing]\nedges:\n  relates_to: [PER-alice]\n---\nbody\n"
    )
    assert render(parse(old, "n.md")) == (
        '---\nid: N-20261201-0a1b2c\ntype: note\ntitle: "Weekly sync: billing"\nstatus: active\n'
        "created: 2026-12-01\ntags:\n  - ops\n  - billing\nedges:\n  relates_to:\n    - PER-alice\n---\nbody\n"
    )


def test_canonical_frontmatter_takes_the_fast_path() -> None:
    fm, _ = dialect.split((Path(__file__).parent / "fixtures" / "obsidian" / "T-20261202-3c4d5e.md").read_text())
    assert canonical_meta(fm) == yaml.load(fm, Loader=dialect.loader())
    assert canonical_meta(fm) is not None


# Lines from the canonical dialect and near it: every indentation the reader knows and a few it does not,
# values plain, quoted, flow and broken, keys that YAML reads as other types.
_KEYS = st.sampled_from(["id", "tags", "edges", "cites", "axis", "x_y", "true", "null", "n1", "a"])
_WORD = st.from_regex(r"\A[a-z0-9(/.$~+][a-z0-9 :#/.-]{0,8}\Z")
_TEXT = st.one_of(_WORD, st.text("ab 1:#-'\"[]{},\\?&*!|>%@`.~", max_size=8))
_VALUES = st.one_of(
    _TEXT,
    _TEXT.map(lambda t: f"'{t}'"),
    _TEXT.map(lambda t: f'"{t}"'),
    st.lists(_TEXT, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
    st.tuples(_TEXT, _TEXT).map(lambda kv: f"{{{kv[0]}: {kv[1]}}}"),
)
_LINE = st.one_of(
    st.tuples(st.sampled_from(["", "  ", "   ", "    "]), _KEYS, st.none() | _VALUES).map(
        lambda p: f"{p[0]}{p[1]}:" + ("" if p[2] is None else f" {p[2]}")
    ),
    st.tuples(st.sampled_from(["- ", "  - ", "    - ", "      - ", "  -"]), _VALUES).map(lambda p: p[0] + p[1]),
    st.sampled_from(["", "# comment", "  # comment", "---", "..."]),
)
_MISSING = object()


@st.composite
def _entry(draw: st.DrawFn, indent: str = "") -> list[str]:
    """One key as the canonical dialect writes it: a scalar, a block list, or (at the top) a block mapping."""
    key = draw(_KEYS)
    value = st.one_of(_WORD, _WORD.map(lambda t: f'"{t}"'), _VALUES)
    kind = draw(st.sampled_from(["scalar", "list", "mapping"] if not indent else ["scalar", "list"]))
    if kind == "scalar":
        return [f"{indent}{key}: {draw(value)}"]
    if kind == "list":
        return [f"{indent}{key}:", *(f"{indent}  - {v}" for v in draw(st.lists(value, max_size=3)))]
    return [f"{key}:", *(line for sub in draw(st.lists(_entry("  "), max_size=3)) for line in sub)]


@st.composite
def _frontmatter(draw: st.DrawFn) -> list[str]:
    """Canonical entries, with now and then a line from near the dialect put anywhere among them."""
    lines = [line for entry in draw(st.lists(_entry(), min_size=1, max_size=5)) for line in entry]
    for noise in draw(st.lists(_LINE, max_size=1)):
        lines.insert(draw(st.integers(0, len(lines))), noise)
    return lines


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.lists(_LINE, min_size=1, max_size=8), _frontmatter()))
def test_the_fast_reader_reads_what_pyyaml_reads(lines: list[str]) -> None:
    fm = "\n" + "\n".join(lines) + "\n"
    fast = canonical_meta(fm)
    try:
        expected = yaml.load(fm, Loader=dialect.loader())
    except yaml.YAMLError:
        expected = _MISSING
    assert fast is None or fast == expected


@settings(max_examples=2000, deadline=None)
@given(st.one_of(_WORD, st.from_regex(r"\A[A-Za-z0-9_(/.$~+].{0,12}\Z"), st.text(max_size=12)))
@example("...")  # YAML's document end marker, found by this test on a clean clone
@example("...more")
def test_strings_written_plain_without_pyyaml_are_those_pyyaml_writes_plain(text: str) -> None:
    if reads_as_plain(text):
        dumped = yaml.dump(
            {"k": text}, Dumper=dialect.dumper(), default_flow_style=False, allow_unicode=True, width=2**31 - 1
        )
        assert dumped == f"k: {text}\n"


def test_the_copy_of_pyyamls_implicit_resolvers_is_pyyamls() -> None:
    """The fast reader decides "is this plain scalar a string" without PyYAML, from a copy of its table;
    an upgrade of PyYAML that changes the table fails here instead of reading blocks differently."""
    theirs: dict[tuple[str, str], set[str]] = {}
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
        for tag, rx in resolvers:
            if first and tag != "tag:yaml.org,2002:timestamp":  # blocks keep dates as strings
                pattern = re.sub(r"\s+", "", rx.pattern) if rx.flags & re.X else rx.pattern
                theirs.setdefault((tag, pattern), set()).add(first)
    ours = {(f"tag:yaml.org,2002:{tag}", pattern): set(first) for tag, first, pattern in IMPLICIT_RESOLVERS}
    assert ours == theirs


def test_non_printable_is_pyyamls_set_of_refused_characters() -> None:
    every = "".join(map(chr, range(0x110000)))
    assert NON_PRINTABLE.findall(every) == yaml.reader.Reader.NON_PRINTABLE.findall(every)


def test_reading_canonical_blocks_does_not_import_pyyaml() -> None:
    """A short-lived process (the pre-commit hook) reading and writing canonical blocks never pays for
    importing PyYAML; the first block that needs it (here, one with a comment) loads it."""
    probe = (
        "import sys\n"
        "from mindmem.store.blocks import parse, render\n"
        "text = '---\\nid: N-20260101-000001\\ntype: note\\ntitle: A plain title\\nstatus: active\\n"
        "created: 2026-01-01\\ntags:\\n  - x\\n---\\nBody.\\n'\n"
        "assert render(parse(text, 'n.md')) == text\n"
        "print('yaml' in sys.modules)\n"
        "parse(text.replace('tags:', '# a comment\\ntags:'), 'n.md')\n"
        "print('yaml' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"], done.stdout + done.stderr
