"""One exception tree for the whole tool; the CLI maps it to exit codes in one place."""

from __future__ import annotations


class MindmemError(Exception):
    """Base of every error the tool raises on purpose."""

    exit_code = 3


class CheckFailed(MindmemError):
    """A check found a problem that must be fixed (exit 1)."""

    exit_code = 1


class BadInput(MindmemError):
    """The user gave something the tool cannot accept (exit 2). Nothing was written."""

    exit_code = 2


class BlockError(BadInput):
    """A block file is malformed; the message names the file and, for YAML, the line."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class ConfigError(BadInput):
    """`.mindmem/config.toml`, the user config or an `MM_*` variable is invalid."""


class NotFound(BadInput):
    """A block, revision or proposal that the user named does not exist."""


class StateError(MindmemError):
    """The repository is not in a state the command can work with (exit 3)."""


class RefConflict(StateError):
    """A ref moved between reading it and updating it; nothing was overwritten."""
