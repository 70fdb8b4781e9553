"""Settings: `.mindmem/config.toml` in the memory repo, `$MM_HOME/config.toml` per user, `MM_*` overrides.

Precedence, lowest first: built-in defaults, the repo's committed config, `MM_*` variables.
Per-user choices (author name, signing key, model path) live under `$MM_HOME`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

from mindmem.errors import BadInput, ConfigError
from mindmem.store.blocks import MAX_BLOCK_BYTES
from mindmem.vocabulary import GOVERNANCE_MODES as MODES

SCHEMA_VERSION = 1
CONFIG_DIR = ".mindmem"
CONFIG_FILE = f"{CONFIG_DIR}/config.toml"
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


def parse_settings(raw: bytes | str, env: Mapping[str, str] | None = None, source: str = CONFIG_FILE) -> Settings:
    """Settings from config bytes or text (decoded by the one rule: UTF-8, BOM, CRLF); `env` (the `MM_*`
    variables) applies as over an uncommitted config."""
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
    for key, value in plain.items():
        expected = int if key in _INT_KEYS else str
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(f"{source}: '{key}' must be a {expected.__name__}")
    settings = Settings(**plain, sections={k: v for k, v in data.items() if isinstance(v, dict)})
    check_settings(settings, source)
    return apply_env(settings, env or {}, committed=False)[0]


def apply_env(settings: Settings, env: Mapping[str, str], *, committed: bool) -> tuple[Settings, tuple[str, ...]]:
    """The settings with `MM_*` overrides, and a note for each one in force.

    Over a committed config an override may only make governance stricter: a stricter mode
    is taken; a looser mode, another root or another governed branch is refused, because the
    settings that decide what an approval needs must come from the governed branch itself.
    """
    changes = {key: env[var] for key, var in _ENV.items() if env.get(var) and env[var] != getattr(settings, key)}
    new = replace(settings, **changes)
    check_settings(new, "the environment")
    if committed:
        for key, value in changes.items():
            if key != "mode" or MODES.index(value) < MODES.index(settings.mode):
                raise ConfigError(
                    f"{_ENV[key]}={value} would override the committed {key} '{getattr(settings, key)}'; "
                    "environment overrides may only make governance stricter (a stricter mode)"
                )
    notes = tuple(f"{_ENV[key]}={value} (committed: {getattr(settings, key)})" for key, value in changes.items())
    return new, notes


def resolve_settings(
    worktree: Settings, committed: Callable[[str], bytes | str | None], env: Mapping[str, str], head_branch: str | None
) -> tuple[Settings, tuple[str, ...], tuple[str, ...]]:
    """The settings in force, the notes on overrides, and the branches where the config was looked for.

    What decides comes from the config committed on the governed branch, never from the work tree:
    the work tree's config (or HEAD's branch) only says where to look, and when that branch's
    committed config names another governed branch, that one is followed once and must agree.
    Only while no such branch has a committed config is the work tree's config in force.
    """
    pointer = env.get(_ENV["governed_branch"]) or worktree.governed_branch
    looked = tuple(dict.fromkeys(filter(None, (pointer, head_branch))))
    for branch in looked:
        text = committed(branch)
        if text is None:
            continue
        settings = parse_settings(text, source=f"{CONFIG_FILE} on {branch}")
        if settings.governed_branch != branch:
            named = settings.governed_branch
            other = committed(named)
            if other is None or parse_settings(other, source=f"{CONFIG_FILE} on {named}").governed_branch != named:
                raise ConfigError(
                    f"{CONFIG_FILE} on {branch} names '{named}' as the governed branch, and {named} does not "
                    "agree; restore the committed config through a proposal"
                )
            settings = parse_settings(other, source=f"{CONFIG_FILE} on {named}")
        return (*apply_env(settings, env, committed=True), looked)
    return (*apply_env(worktree, env, committed=False), looked)


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
    from mindmem.store.text import decode

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
