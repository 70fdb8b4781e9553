"""The YAML a block's frontmatter is read and written with: safe, dates kept as the strings a person
wrote (so they round-trip), and the split of a block into frontmatter and body.

PyYAML is imported only when `loader` or `dumper` is first asked for: a block in the canonical
dialect is read by `fast_yaml` without it, and the import (with the regex its reader compiles) is
20-50 ms of every short-lived `mm` process, such as the pre-commit hook.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# python-frontmatter's `^-{3,}\s*$` boundary eats a body's leading blank-ish line; spaces only here.
# Its handler added nothing else for block files (and importing it loads PyYAML), so the split is here;
# `mindmem.imports.markdown` reads foreign Markdown with python-frontmatter itself.
_BOUNDARY = re.compile(r"^-{3,}[ \t\r]*$", re.MULTILINE)


def has_frontmatter(text: str) -> bool:
    """Whether `text` starts with a frontmatter boundary line."""
    return _BOUNDARY.match(text) is not None


def split(text: str) -> tuple[str, str]:
    """(frontmatter, body) of a block that `has_frontmatter`; ValueError if the frontmatter is not closed."""
    _, fm, content = _BOUNDARY.split(text, 2)
    return fm, content


@functools.cache
def loader() -> Any:
    """Safe YAML that keeps dates as the strings a person wrote, so they round-trip."""
    import yaml

    base = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    return type("Loader", (base,), {"yaml_implicit_resolvers": _without_timestamps(yaml)})


@functools.cache
def dumper() -> Any:
    """Safe YAML that writes date-like strings unquoted, matching `loader`."""
    import yaml

    base = yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper
    return type("Dumper", (base,), {"yaml_implicit_resolvers": _without_timestamps(yaml)})


def _without_timestamps(yaml: Any) -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    return {
        ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
