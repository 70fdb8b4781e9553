"""The layers of docs/architecture.md, checked on the source: who may import whom, and no import circles."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "mindmem"
ORDER = ("store", "checks", "search", "governance", "extract", "imports", "agents", "cli")
TOP = {"mindmem", "mindmem.__main__"}  # the package's front door and `python -m mindmem` sit above everything
BASE = {"mindmem.errors", "mindmem.vocabulary", "mindmem.jsonable"}  # below every layer


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        out[name] = path
    return out


def layer(module: str) -> str:
    """A module's layer is the package it sits in: mindmem/<layer>/..."""
    return module.split(".")[1]


def runtime_imports(path: Path, known: dict[str, Path]) -> set[str]:
    """mindmem modules `path` imports at run time (anywhere but under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = {
        id(sub)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
        for sub in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mindmem"):
            found |= {
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module for a in node.names
            }
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("mindmem")}
    return {name for name in found if name in known}


def import_graph() -> nx.DiGraph:
    known = modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    for name, path in known.items():
        graph.add_edges_from((name, target) for target in runtime_imports(path, known) if target != name)
    return graph


def test_each_layer_imports_only_itself_and_the_layers_below():
    graph = import_graph()
    upward = [
        (a, b)
        for a, b in graph.edges
        if a not in TOP | BASE and b not in TOP | BASE and ORDER.index(layer(a)) < ORDER.index(layer(b))
    ]
    assert upward == []


def test_no_two_modules_import_each_other_even_through_others():
    circles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert circles == []


def test_only_the_git_facade_touches_pygit2():
    users = sorted(name for name, path in modules().items() if "import pygit2" in path.read_text(encoding="utf-8"))
    assert users == [
        "mindmem.store.git.base",
        "mindmem.store.git.commits",
        "mindmem.store.git.objects",
        "mindmem.store.git.refs",
        "mindmem.store.git.remotes",
        "mindmem.store.git.worktree",
        "mindmem.store.repo",
    ]


def test_every_module_sits_in_a_layer():
    loose = sorted(name for name in modules() if name not in TOP | BASE and layer(name) not in ORDER)
    assert loose == []


def test_no_module_is_over_450_lines():
    long = {
        name: n for name, path in modules().items() if (n := len(path.read_text(encoding="utf-8").splitlines())) > 450
    }
    assert long == {}


def _docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = node.body[0]
    is_doc = (
        isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
    )
    return first.end_lineno - first.lineno + 1 if is_doc else 0


def test_no_function_is_over_60_lines_besides_its_docstring():
    """CLI commands carry their help, examples included, as docstrings: those lines do not count."""
    long = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1 - _docstring_lines(node)
                if lines > 60:
                    long.append(f"{name}.{node.name}: {lines}")
    assert long == []
