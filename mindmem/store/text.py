"""The one decoding rule for text mm reads: block files, stdin, `--file` paths and the config.

Strict UTF-8 (invalid bytes are refused with the source and the byte offset, never replaced),
no NUL characters (binary data), a leading byte-order mark dropped, CRLF read as LF. Every
carrier goes through here, so a file accepted from disk is accepted the same from stdin, and
refused the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mindmem.errors import BadInput

STDIN = "<stdin>"


def decode(data: bytes | str, source: str) -> str:
    """`data` as text under the decoding rule; BadInput naming `source` and the byte offset if it is not UTF-8."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{source}: invalid UTF-8 at byte {exc.start}") from None
    if "\0" in data:
        raise BadInput(f"{source}: NUL character at offset {data.index(chr(0))}; this is binary, not text")
    return normalise(data)


def normalise(text: str) -> str:
    """A leading BOM dropped and CRLF read as LF (a lone CR stays: it is a control character)."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def read_stdin() -> str:
    """All of stdin as bytes, decoded by the rule (a text-mode read would raise on bad bytes or guess)."""
    stream = getattr(sys.stdin, "buffer", None)
    return decode(stream.read() if stream is not None else sys.stdin.read(), STDIN)


def read_file(path: Path, source: str | None = None) -> str:
    """A text file decoded by the rule; BadInput (not a traceback) when it is missing or not UTF-8."""
    name = source or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{name}: cannot read: {exc.strerror or exc}") from None
    return decode(data, name)
