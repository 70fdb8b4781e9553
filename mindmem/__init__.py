"""mindmem: git-native memory for coding agents and the people who work with them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Block", "Memory", "MindmemError", "__version__"]

if TYPE_CHECKING:
    from mindmem.errors import MindmemError
    from mindmem.store.blocks import Block
    from mindmem.store.memory import Memory


def __getattr__(name: str) -> Any:
    # Lazy, so `mm --help` does not pay for pygit2 and YAML.
    if name == "Memory":
        from mindmem.store.memory import Memory

        return Memory
    if name == "Block":
        from mindmem.store.blocks import Block

        return Block
    if name == "MindmemError":
        from mindmem.errors import MindmemError

        return MindmemError
    raise AttributeError(name)
