"""One exception tree for the whole tool; the CLI maps it to exit codes in one place."""

from __future__ import annotations

import re
from collections.abc import Callable


class MindmemError(Exception):
    """Base of every error the tool raises on purpose."""

    exit_code = 3


class CheckFailed(MindmemError):
    """A check found a problem that must be fixed (exit 1)."""

    exit_code = 1


class BadInput(MindmemError):
    """The user gave something the tool cannot accept (exit 2). Nothing was written."""

    exit_code = 2


class BadParameter(BadInput):
    """Bad input that names the parameters it is about, so each surface can say them its own way.

    The message marks each parameter name as `{name}`: the library and MCP print the name
    (`limit must be …`), the CLI its flag (`--limit must be …`). No formatting happens, so a
    value the user gave may hold braces of its own.
    """

    def __init__(self, template: str) -> None:
        self.template = template
        super().__init__(self.naming(lambda param: param))

    def naming(self, name: Callable[[str], str]) -> str:
        """The message with each parameter called `name(parameter)`."""
        return _PARAM.sub(lambda m: name(m.group(1)), self.template)


_PARAM = re.compile(r"\{([a-z][a-z_]*)\}")


class BlockError(BadInput):
    """A block file is malformed; the message names the file and, for YAML, the line."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class DuplicateId(BlockError):
    """Two block files claim one ID; `block_id` is the ID, the message names both files."""

    def __init__(self, path: str, block_id: str, other: str) -> None:
        self.block_id = block_id
        super().__init__(path, f"duplicate id {block_id} (also in {other})")


class ConfigError(BadInput):
    """`.mindmem/config.toml`, the user config or an `MM_*` variable is invalid."""


class NotFound(BadInput):
    """A block, revision or proposal that the user named does not exist."""


class StateError(MindmemError):
    """The repository is not in a state the command can work with (exit 3)."""


class RefConflict(StateError):
    """A ref moved between reading it and updating it; nothing was overwritten."""
