"""`mindmem.governance` loads what it exports on first use, and the names stay the functions."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import mindmem.governance as gov


def test_every_exported_name_is_the_object_of_its_module():
    for name in gov.__all__:
        home = importlib.import_module(f"mindmem.governance.{gov._HOME_OF[name]}")
        assert getattr(gov, name) is getattr(home, name), name
    assert callable(gov.approve) and callable(gov.propose) and callable(gov.rollback)


def test_no_submodule_is_named_like_an_exported_name():
    # A submodule, once imported, becomes an attribute of the package: it would hide the function.
    modules = {path.stem for path in Path(gov.__file__).parent.glob("*.py")}
    assert modules.isdisjoint(gov.__all__)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        gov.no_such_thing  # noqa: B018


def test_the_git_hooks_do_not_load_approvals_or_the_checks(tmp_path):
    probe = (
        "import sys, mindmem.governance.hooks\n"
        "print([m for m in ('mindmem.governance.approving', 'mindmem.checks') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.strip() == "[]"
