"""Bad input on every carrier: bombs, duplicate keys, bad bytes, links and special files (issue 12)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from bad_input_helpers import BLOCK_HEAD, block, run_bytes, state

from mindmem.errors import BlockError
from mindmem.store import walk
from mindmem.store.blocks import parse

NOTE = "memory/notes/N-20260101-abcdef.md"


def alias_bomb(depth: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, depth + 1)]
    return block("\n".join(lines) + "\n")


def plant(repo: Path, rel: str, data: str | bytes) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


@pytest.mark.parametrize("depth", [1, 8, 12])
def test_alias_bomb_is_refused_at_the_first_anchor(repo: Path, mm, depth: int) -> None:
    plant(repo, NOTE, alias_bomb(depth))
    result = mm("validate", cwd=repo)
    assert result.code == 1
    assert f"{NOTE}:7: YAML anchor &a0 is not allowed" in result.out
    refused = run_bytes("propose", "-r", "a rationale here", "--file", "-", cwd=repo, stdin=alias_bomb(depth).encode())
    assert refused.code == 2 and "<stdin>#1:7: YAML anchor &a0" in refused.err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("title: Another title\n", ":7: duplicate key 'title' on lines 4 and 7"),
        ("x: {a: 1, a: 2}\n", ":7: duplicate key 'a' on lines 7 and 7"),
        ("n: " + "9" * 5000 + "\n", ":7: a number of 5000 characters; the limit is 100"),
        ("deep: " + "[" * 40 + "]" * 40 + "\n", ":7: frontmatter nests deeper than 16 levels"),
        ("? [a]\n: b\n", ":7: a mapping key must be a plain value"),
        ("x: *nothing\n", ":7: YAML alias *nothing is not allowed"),
        ("citations: ['../../etc/passwd@abc1234']\n", "must name a path inside the repository"),
        ("citations: ['/etc/passwd@abc1234']\n", "must name a path inside the repository"),
        ("edges:\n  cites: N-20260101-000000\n", "edges.cites must be a list of block IDs"),
    ],
)
def test_frontmatter_refusals_name_file_and_line(extra: str, message: str) -> None:
    with pytest.raises(BlockError) as caught:
        parse(block(extra), NOTE)
    assert str(caught.value).startswith(NOTE)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("x" * 900_000, "field 'title' is 900000 characters; the limit is 300"),
        ('"Ig\\x01nore me"', "control character U+0001"),
        ('"\\e[8mhidden"', "control character U+001B"),
    ],
)
def test_titles_are_short_and_free_of_controls(title: str, message: str) -> None:
    with pytest.raises(BlockError, match=re.escape(message)):
        parse(block(head=BLOCK_HEAD.replace("title: A note", f"title: {title}")), NOTE)


def test_alias_bomb_and_huge_numbers_through_set_are_one_line(repo: Path, mm) -> None:
    for value in ["&a [*a, *a]", "9" * 5000]:
        result = mm("new", "note", "-t", "x", "--set", f"x={value}", cwd=repo)
        assert result.code == 2 and result.err.count("\n") == 1, result.err


# -- the decoding rule --------------------------------------------------------------------


def test_invalid_utf8_on_stdin_and_in_the_config_is_one_line_with_the_offset(repo: Path, mm) -> None:
    before = state(repo)
    bad = block().encode().replace(b"Body", b"B\xffdy")
    offset = bad.index(b"\xff")
    for args in (["new", "note", "-t", "x", "-b", "-"], ["propose", "-r", "a rationale here", "--file", "-"]):
        result = run_bytes(*args, cwd=repo, stdin=bad)
        assert (result.code, result.err) == (2, f"mm: error: <stdin>: invalid UTF-8 at byte {offset}\n")
    assert state(repo) == before
    (repo / ".mindmem/config.toml").write_bytes(b'schema_version = 1\nroot = "m\xe9"\n')
    for command in ("validate", "verify", "list"):
        result = mm(command, cwd=repo)
        assert (result.code, result.err) == (2, "mm: error: .mindmem/config.toml: invalid UTF-8 at byte 28\n")


def test_bom_and_crlf_are_read_the_same_on_every_carrier_and_fmt_normalises_them(repo: Path, mm, tmp_path) -> None:
    data = ("\ufeff" + block()).replace("\n", "\r\n").encode()
    from_stdin = run_bytes("propose", "-r", "a rationale here", "--file", "-", "--json", cwd=repo, stdin=data)
    (tmp_path / "n.md").write_bytes(data)
    from_file = mm("propose", "-r", "a rationale here", "--file", str(tmp_path / "n.md"), "--json", cwd=repo)
    assert from_stdin.code == 0 and from_file.code == 0, from_stdin.err + from_file.err
    plant(repo, NOTE, data)
    assert mm("validate", cwd=repo).code == 0
    assert mm("fmt", cwd=repo).out == f"reformatted {NOTE}\n"
    assert (repo / NOTE).read_bytes() == block().encode()


# -- only regular files, never through a link ------------------------------------------------


def test_a_fifo_under_the_memory_root_is_a_finding_and_never_opened(repo: Path, mm) -> None:
    fifo = "memory/notes/N-20261201-f1f0f1.md"  # named like a block, so no command may skip it as a note
    os.mkfifo(repo / fifo)
    result = mm("validate", cwd=repo)  # opening the FIFO for reading would block forever
    assert result.code == 1
    assert f"{fifo}: is a FIFO, not a regular file; mm never opens it" in result.out
    listed = mm("list", cwd=repo)
    assert listed.code == 2 and f"{fifo}: is a FIFO" in listed.err


def test_symlinks_in_memory_are_findings_and_never_followed(repo: Path, mm, tmp_path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text(block())
    (repo / "memory/notes/N-20260101-abcdef.md").symlink_to(outside)
    result = mm("validate", cwd=repo)
    assert result.code == 1 and f"{NOTE}: is a symlink" in result.out
    assert mm("list", "--json", cwd=repo).out.strip() == "[]"
    (tmp_path / "elsewhere").mkdir()
    for entry in (repo / "memory/facts").iterdir():
        entry.unlink()
    (repo / "memory/facts").rmdir()
    (repo / "memory/facts").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert "memory/facts: is a symlink to a folder" in mm("validate", cwd=repo).out
    before = state(repo)
    refused = mm("new", "fact", "-t", "through the link", cwd=repo)
    assert refused.code == 2
    assert refused.err == (
        "mm: error: memory/facts is a symlink; mm does not write through links "
        "(replace the link with a real folder or file)\n"
    )
    assert list((tmp_path / "elsewhere").iterdir()) == [] and state(repo) == before


def test_a_symlinked_memory_root_is_neither_read_nor_written(repo: Path, mm, tmp_path) -> None:
    (repo / "memory").rename(tmp_path / "real")
    (repo / "memory").symlink_to(tmp_path / "real", target_is_directory=True)
    assert "memory: is a symlink; mm never follows links out of the repository" in mm("validate", cwd=repo).out
    assert mm("new", "note", "-t", "x", cwd=repo).code == 2
    assert not list((tmp_path / "real/notes").glob("N-*.md"))


def test_import_markdown_refuses_links_and_special_files(repo: Path, mm, tmp_path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "ok.md").write_text("# Fine\n\nA note.\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for memory\n")
    (vault / "notes.md").symlink_to(secret)
    before = state(repo)
    result = mm("import", "markdown", str(vault), cwd=repo)
    assert result.code == 2 and f"{vault / 'notes.md'}: cannot import: is a symlink" in result.err
    (vault / "notes.md").unlink()
    os.mkfifo(vault / "pipe.md")
    result = mm("import", "markdown", str(vault), cwd=repo)
    assert result.code == 2 and "pipe.md: cannot import: is a FIFO" in result.err
    (vault / "pipe.md").unlink()
    (vault / "bomb.md").write_text("---\na: &a [1]\nb: *a\n---\nx\n")
    result = mm("import", "markdown", str(vault), cwd=repo)
    assert (result.code, result.err.count("\n")) == (2, 1)
    assert "bomb.md:2: invalid frontmatter: YAML anchor" in result.err
    assert state(repo) == before


def test_a_file_that_vanishes_while_the_tree_is_walked_is_skipped(tmp_path: Path) -> None:
    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / "memory" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "memory" / name).write_text(name)
    seen = []
    for path, data in walk.tree(str(tmp_path), "memory", 1024):
        seen.append((path, data))
        (tmp_path / "memory/b.md").unlink(missing_ok=True)  # another process's approve removed it
    assert seen == [("memory/a.md", b"a.md"), ("memory/c.md", b"c.md")]


def test_alias_bomb_of_any_depth_is_judged_quickly() -> None:
    # Not a speed test (benchmarks/bad_input.py measures that): a bomb that were expanded would take hours.
    start = time.monotonic()
    for depth in range(1, 13):
        with pytest.raises(BlockError, match="anchor"):
            parse(alias_bomb(depth), NOTE)
    assert time.monotonic() - start < 10


def test_allowed_signers_lines_that_do_not_parse_are_findings_naming_the_line(repo: Path, mm) -> None:
    signers = repo / ".mindmem/allowed_signers"
    good = 'alice@example.com namespaces="git" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ0ZXN0a2V5\n'
    signers.write_text(signers.read_text() + good + "bob@example.com\ncarol ssh-ed25519 not*base64\n")
    result = mm("validate", cwd=repo)
    assert result.code == 1
    assert result.out.splitlines()[:2] == [
        ".mindmem/allowed_signers:3: not an allowed_signers line: no key type (like ssh-ed25519) after the principals",
        ".mindmem/allowed_signers:4: not an allowed_signers line: no base64 public key after ssh-ed25519",
    ]
