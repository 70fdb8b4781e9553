"""The YAML a block's frontmatter is read and written with: safe, dates kept as the strings a person
wrote (so they round-trip), and python-frontmatter's split with a stricter boundary."""

from __future__ import annotations

import re

import yaml
from frontmatter.default_handlers import YAMLHandler


class Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML that keeps dates as the strings a person wrote, so they round-trip."""


class Dumper(yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper):  # type: ignore[misc]
    """Safe YAML that writes date-like strings unquoted, matching `Loader`."""


for _cls in (Loader, Dumper):
    _cls.yaml_implicit_resolvers = {
        ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


class _Frontmatter(YAMLHandler):
    """python-frontmatter's `^-{3,}\\s*$` boundary eats a body's leading blank-ish line; spaces only here."""

    FM_BOUNDARY = re.compile(r"^-{3,}[ \t\r]*$", re.MULTILINE)


FRONTMATTER = _Frontmatter()


def one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
