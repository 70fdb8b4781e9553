"""Settings: `.mindmem/config.toml` in the memory repo, `$MM_HOME/config.toml` per user, `MM_*` overrides.

Precedence, lowest first: built-in defaults, the repo's committed config, `MM_*` variables.
Per-user choices (author name, signing key, model path) live under `$MM_HOME`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

from mindmem.blocks import MAX_BLOCK_BYTES
from mindmem.errors import BadInput, ConfigError

SCHEMA_VERSION = 1
CONFIG_DIR = ".mindmem"
CONFIG_FILE = f"{CONFIG_DIR}/config.toml"
MODES = ("detect_only", "propose", "enforce")
MIN_BLOCK_BYTES = 1024
_INT_KEYS = ("schema_version", "max_block_bytes")
_RESERVED_ROOTS = {".git", CONFIG_DIR}


@dataclass(frozen=True)
class Settings:
    """The repo settings in force. `sections` keeps tables later features own (e.g. `[agents]`)."""

    root: str = "memory"
    governed_branch: str = "main"
    mode: str = "propose"
    governed_since: str | None = None
    schema_version: int = SCHEMA_VERSION
    # Block files over this size are refused unread; it may only be lowered (parsing caps at 1 MiB).
    max_block_bytes: int = MAX_BLOCK_BYTES
    sections: Mapping[str, Any] = field(default_factory=dict, compare=False)


_ENV = {"root": "MM_ROOT", "governed_branch": "MM_GOVERNED_BRANCH", "mode": "MM_MODE"}
_KEYS = {f.name for f in fields(Settings)} - {"sections"}


def parse_settings(raw: bytes | str, env: Mapping[str, str], source: str = CONFIG_FILE) -> Settings:
    """The settings in `.mindmem/config.toml` (raw bytes are decoded by the one rule: UTF-8, BOM, CRLF)."""
    try:
        data = tomllib.loads(_decode(raw, source))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    version = data.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:  # `true == 1` in Python, not in TOML
        raise ConfigError(
            f"{source}: schema_version is {version!r}; this mm understands {SCHEMA_VERSION} (upgrade mm?)"
        )
    plain = {k: v for k, v in data.items() if not isinstance(v, dict)}
    unknown = set(plain) - _KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown setting '{sorted(unknown)[0]}'")
    for key, var in _ENV.items():
        if env.get(var):
            plain[key] = env[var]
    for key, value in plain.items():
        expected = int if key in _INT_KEYS else str
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(f"{source}: '{key}' must be a {expected.__name__}")
    settings = Settings(**plain, sections={k: v for k, v in data.items() if isinstance(v, dict)})
    check_settings(settings, source)
    return settings


def check_settings(settings: Settings, source: str = CONFIG_FILE) -> None:
    if settings.mode not in MODES:
        raise ConfigError(f"{source}: mode '{settings.mode}' is not one of {', '.join(MODES)}")
    check_root(settings.root, source)
    if not MIN_BLOCK_BYTES <= settings.max_block_bytes <= MAX_BLOCK_BYTES:
        raise ConfigError(
            f"{source}: max_block_bytes is {settings.max_block_bytes}; "
            f"it must be between {MIN_BLOCK_BYTES} and {MAX_BLOCK_BYTES} (1 MiB)"
        )
    if not settings.governed_branch or " " in settings.governed_branch:
        raise ConfigError(f"{source}: governed_branch '{settings.governed_branch}' is not a branch name")


def check_root(root: str, source: str = "--root") -> None:
    path = PurePosixPath(root)
    if (
        not root
        or path.is_absolute()
        or "\\" in root
        or ".." in path.parts
        or path.parts[0] in _RESERVED_ROOTS
        or root != path.as_posix()
    ):
        raise ConfigError(f"{source}: root '{root}' must be a plain relative folder inside the repo, like 'memory'")


def render_settings(settings: Settings) -> str:
    lines = [
        "# mindmem settings, committed with the memory. See docs/cli.md.",
        f"schema_version = {settings.schema_version}",
        f"root = {_toml_str(settings.root)}",
        f"governed_branch = {_toml_str(settings.governed_branch)}",
        f"mode = {_toml_str(settings.mode)}",
    ]
    if settings.governed_since:
        lines.append(f"governed_since = {_toml_str(settings.governed_since)}")
    if settings.max_block_bytes != MAX_BLOCK_BYTES:
        lines.append(f"max_block_bytes = {settings.max_block_bytes}")
    text = "\n".join(lines) + "\n"
    # Tables that later features own are kept but not reformatted beyond TOML basics.
    for name, table in settings.sections.items():
        text += f"\n[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in table.items())
    return text


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    new = replace(settings, **changes)
    check_settings(new)
    return new


def user_dir(env: Mapping[str, str]) -> Path:
    """`$MM_HOME`, else the platform config dir (`$XDG_CONFIG_HOME/mindmem` or `~/.config/mindmem`)."""
    if env.get("MM_HOME"):
        return Path(env["MM_HOME"])
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "mindmem"


def user_config(env: Mapping[str, str]) -> dict[str, Any]:
    """Per-user settings from `$MM_HOME/config.toml`; `MM_<KEY>` variables override its top-level keys."""
    path = user_dir(env) / "config.toml"
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(_decode(path.read_bytes(), f"{path.name} in MM_HOME"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path.name} in MM_HOME: invalid TOML: {exc}") from None
    for key in ("author", "signing_key", "signing_format", "model"):
        if env.get(f"MM_{key.upper()}"):
            data[key] = env[f"MM_{key.upper()}"]
    return data


def _decode(data: bytes | str, source: str) -> str:
    from mindmem.text import decode

    try:
        return decode(data, source)
    except BadInput as exc:
        raise ConfigError(str(exc)) from None


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"cannot write {value!r} to TOML")
