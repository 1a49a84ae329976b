"""The layers of the project, and the rule that every import points down.

Walks every import statement of the project's own modules (module level and inside
functions alike: an import hidden in a function is still a dependency) and fails on an
import from a lower layer to a higher one, and on any cycle between modules. No database.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Bottom first. A package may import its own layer's and lower layers' modules only.
LAYERS: list[tuple[str, ...]] = [
    ("domain",),  # pure rules: periods, targets, status, trend, exchange format
    ("audit", "accounts"),  # generic: the audit trail, users' API keys
    ("divisions",),  # the organisation tree, roles and access
    ("sso",),  # single sign-on: the provider, the group mapping, break-glass
    ("scorecard",),  # perspectives, goals, success factors, closes, their writes
    ("indicators",),  # indicators, measurements, imports, recompute
    ("benchmarks",),  # national comparison: Kolada's key figures, their sync and reads
    ("dashboard",),  # the read side: selectors, charts, exports, pages
    ("reporting",),  # the managers' forms
    ("demo",),  # demo and synthetic data
    ("api",),  # the REST API
    ("config",),  # settings, URLs, Celery app
]
LAYER_OF = {package: rank for rank, names in enumerate(LAYERS) for package in names}

pytestmark = pytest.mark.architecture


def _modules() -> dict[str, Path]:
    modules = {}
    for package in LAYER_OF:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, resolved to the longest known module name."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = name.split(".")
                base = parts if is_package else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" for alias in node.names] + [module]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _layer(module: str) -> int:
    return LAYER_OF[module.split(".")[0]]


def test_every_package_has_a_layer() -> None:
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "bench"}
    }
    assert packages == set(LAYER_OF), "add the new package to LAYERS (and the README layout)"


def test_imports_point_down() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in _graph().items()
        for target in targets
        if _layer(target) > _layer(module)
    )
    assert upward == []


def test_no_import_cycles() -> None:
    graph = _graph()
    # Tarjan's strongly connected components: any component of two or more is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []


def test_domain_is_pure() -> None:
    """The domain layer imports no Django: its rules run and are tested without it."""
    modules = _modules()
    impure = []
    for name, path in modules.items():
        if not name.startswith("domain"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            frameworks = {"django", "rest_framework"}
            impure += [f"{name}: {n}" for n in names if n.split(".")[0] in frameworks]
    assert impure == []
