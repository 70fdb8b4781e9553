"""Reading a block file: bytes checked and decoded, frontmatter split and read, then validated."""

from __future__ import annotations

from typing import Any

from mindmem.errors import BadInput, BlockError
from mindmem.store.format import dialect
from mindmem.store.format.dialect import one_line, short
from mindmem.store.format.fast_yaml import canonical_meta
from mindmem.store.format.model import Block
from mindmem.store.format.schema import MAX_BLOCK_BYTES
from mindmem.store.format.validate import from_mapping
from mindmem.store.text import normalise


def parse(data: str | bytes, path: str) -> Block:
    """Parse a block file. Raises `BlockError` naming `path` (and the line, for YAML)."""
    text = decode(data, path)
    if not dialect.has_frontmatter(text):
        raise BlockError(path, "missing YAML frontmatter: a block starts with a '---' line", 1)
    try:
        fm, content = dialect.split(text)
    except ValueError:
        raise BlockError(path, "frontmatter is not closed by a '---' line", 1) from None
    meta = _frontmatter(fm, path)
    if not isinstance(meta, dict):
        raise BlockError(path, "frontmatter must be a YAML mapping of keys to values", 2)
    return from_mapping(meta, content, path, _fm_text=fm)


def _frontmatter(fm: str, path: str) -> Any:
    """The frontmatter read as YAML (the fast reader when it is canonical); BlockError naming the line."""
    meta = canonical_meta(fm)
    return _yaml_frontmatter(fm, path) if meta is None else meta


def _yaml_frontmatter(fm: str, path: str) -> Any:
    """The frontmatter read by PyYAML, imported here: a short-lived process with only canonical blocks
    (the pre-commit hook, most commands) never loads it."""
    import yaml

    from mindmem.store import yaml_guard

    loader = dialect.loader()
    try:
        yaml_guard.check(fm, loader)  # anchors, duplicate keys, depth, huge numbers: before building
        meta = yaml.load(fm, Loader=loader)
    except yaml_guard.Refused as exc:
        raise BlockError(path, exc.message, exc.line + 1) from None
    except yaml.MarkedYAMLError as exc:
        # `fm` starts with the rest of the opening '---' line, so 0-based YAML lines are 1-based file lines.
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = exc.problem or exc.context
        if exc.problem and exc.context and exc.context_mark:
            # The context often names where the trouble started (an unclosed '[' or quote), a line earlier.
            reason += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        raise BlockError(path, f"invalid YAML: {reason}", line) from None
    except yaml.reader.ReaderError as exc:
        # `fm` starts with the rest of the opening line, so counting its line breaks gives the file line.
        point = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        line = fm.count("\n", 0, exc.position) + 1
        raise BlockError(path, f"invalid YAML: the character U+{point:04X} is not allowed in YAML", line) from None
    except yaml.YAMLError as exc:
        raise BlockError(path, f"invalid YAML: {one_line(exc)}", 1) from None
    return meta


def parse_value(text: str) -> Any:
    """A YAML value in the block dialect, for `--set key=value` (so `tags=[a, b]` works)."""
    import yaml

    from mindmem.store import yaml_guard

    loader = dialect.loader()
    try:
        yaml_guard.check(text, loader)
        return yaml.load(text, Loader=loader)
    except yaml_guard.Refused as exc:
        raise BadInput(f"cannot read value {short(text)!r}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        raise BadInput(f"cannot read value {short(text)!r} as YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"cannot read value {short(text)!r} as YAML: {one_line(exc)}") from None


def decode(data: str | bytes, path: str) -> str:
    """Check size and encoding of a block file's raw contents.

    The one decoding rule (also for stdin and the config, see `mindmem.store.text`): strict UTF-8,
    a leading byte-order mark dropped, CRLF read as LF.
    """
    if isinstance(data, str):
        raw_len = len(data.encode("utf-8", "surrogatepass"))
        if raw_len > MAX_BLOCK_BYTES:
            raise BlockError(path, f"block is {raw_len} bytes; the limit is {MAX_BLOCK_BYTES} (1 MiB)")
        text = data
    else:
        if len(data) > MAX_BLOCK_BYTES:
            raise BlockError(path, f"block is {len(data)} bytes; the limit is {MAX_BLOCK_BYTES} (1 MiB)")
        if b"\0" in data:
            raise BlockError(path, "binary file (contains NUL bytes), not a Markdown block")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BlockError(path, f"invalid UTF-8 at byte {exc.start}") from None
    if "\0" in text:
        raise BlockError(path, "binary file (contains NUL bytes), not a Markdown block")
    return normalise(text)
