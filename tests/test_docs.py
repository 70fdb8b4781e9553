"""The docs stay true: every command is documented and has an example, the README opens with the
two commands, and the block examples in docs/block-format.md are valid canonical blocks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mindmem.cli import app
from mindmem.store.blocks import parse, render

ROOT = Path(__file__).resolve().parent.parent


# Every visible command, nested groups included (`graph expand`), as a tuple of words.
COMMANDS = sorted(words for words, command in app.walk() if not command.hidden)


def test_the_core_commands_are_registered() -> None:
    for core in ("init", "new", "show", "list", "fmt", "validate"):
        assert (core,) in COMMANDS


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_command_is_in_the_cli_reference(words: tuple[str, ...]) -> None:
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    # `mm graph expand ID` or `mm list [--type T]`: the command words, then the end of the word.
    assert re.search(rf"`mm {re.escape(' '.join(words))}(?=[\s`])", reference), f"mm {' '.join(words)} not in cli.md"


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_command_help_has_an_example(mm, words: tuple[str, ...]) -> None:
    result = mm(*words, "--help")
    assert result.code == 0, result.err
    assert "Example" in result.out, f"`mm {' '.join(words)} --help` has no Example section"


def test_the_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [line.split("#")[0].strip() for line in readme.splitlines() if line.startswith("make ")]
    assert commands[:2] == ["make demo", "make test"]
    first_block = readme.split("```")[1]
    assert first_block.split("\n", 1)[1].startswith("make demo")
    assert readme.index("make demo") < 400, "the two commands belong at the top"


def block_examples() -> list[str]:
    text = (ROOT / "docs" / "block-format.md").read_text(encoding="utf-8")
    return re.findall(r"^```markdown\n(---\n.*?)^```$", text, flags=re.M | re.S)


def test_the_format_doc_shows_every_type() -> None:
    examples = [parse(example, "docs/block-format.md") for example in block_examples()]
    assert {block.type for block in examples} == {"decision", "fact", "task", "incident", "note", "entity"}


@pytest.mark.parametrize("example", block_examples())
def test_block_examples_in_the_docs_are_canonical(example: str) -> None:
    assert render(parse(example, "docs/block-format.md")) == example
