"""Helpers for the bad-input tests and the fuzz suite: bytes on stdin, and what must stay unchanged."""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path

from conftest import Result, git

BLOCK_HEAD = "---\nid: N-20260101-abcdef\ntype: note\ntitle: A note\nstatus: active\ncreated: 2026-01-01\n"


def block(extra: str = "", body: str = "Body.", head: str = BLOCK_HEAD) -> str:
    return f"{head}{extra}---\n{body}\n"


def run_bytes(*args: str, cwd: Path, stdin: bytes = b"") -> Result:
    """`mm` in-process with raw bytes on stdin (the shared runner only takes text)."""
    from mindmem.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout, sys.stderr = out, err
    code = 0
    try:
        main(["-C", str(cwd), *args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return Result(code, out.getvalue(), err.getvalue())


def state(repo: Path) -> tuple:
    """Files (regular ones by content, others by kind, never opened), index, refs and status."""
    files: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in [*filenames, *dirnames]:
            full = Path(dirpath, name)
            mode = full.lstat().st_mode
            key = full.relative_to(repo).as_posix()
            if stat.S_ISREG(mode):
                files[key] = full.read_bytes()
            elif not stat.S_ISDIR(mode):
                files[key] = stat.filemode(mode) + (f" -> {os.readlink(full)}" if stat.S_ISLNK(mode) else "")
    return (
        files,
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "ls-files", "--stage"),
        git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
    )
