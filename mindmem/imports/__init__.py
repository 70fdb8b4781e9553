"""Imports from other memory tools; each ends in one proposal, and re-importing proposes nothing new."""

from mindmem.imports.common import Imported, ImportPlan, plan, propose

__all__ = ["ImportPlan", "Imported", "plan", "propose"]
