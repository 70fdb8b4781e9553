"""Extraction: conversations, notes and logs in; candidate blocks out; always ending in a proposal.

    extractor = get_extractor("rules")
    extraction = extractor.extract(text, Context(reference_date, memory.snapshot(branch), source))

Backends are looked up by name and imported only when chosen, so a model library is
loaded only by the backend that needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

from mindmem.errors import BadInput
from mindmem.extract.base import Candidate, Context, Extraction, Extractor, Span

# name -> "module:factory"; a factory takes the options (model path, URL …) and returns an Extractor.
BACKENDS: dict[str, str] = {
    "rules": "mindmem.extract.rules:RulesExtractor",
    "llama-cpp": "mindmem.extract.llama:LlamaExtractor",
    "ctransformers": "mindmem.extract.ctransformers:CTransformersExtractor",
    "openai": "mindmem.extract.openai:OpenAIExtractor",
    "hybrid": "mindmem.extract.hybrid:HybridExtractor",
}


def get_extractor(name: str, options: Mapping[str, Any] | None = None) -> Extractor:
    if name not in BACKENDS:
        raise BadInput(f"unknown extraction backend '{name}'; expected one of {', '.join(BACKENDS)}")
    module, _, attr = BACKENDS[name].partition(":")
    factory: Callable[..., Extractor] = getattr(import_module(module), attr)
    return factory(**dict(options or {}))


__all__ = ["BACKENDS", "Candidate", "Context", "Extraction", "Extractor", "Span", "get_extractor"]
