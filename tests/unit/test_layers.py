"""Every import of bot/ and skills/ points down the layers, and no import circle exists.

The graph is read with ``ast`` from the source, so it holds every import: those
at the top of a module, those inside functions, and those under
``TYPE_CHECKING``. A module may import from its own layer or a lower one.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from bot.core.settings import PROJECT_ROOT

LAYERS: list[tuple[str, ...]] = [
    ("bot.core",),
    ("bot.store",),
    ("bot.nlu", "bot.integrations", "bot.channels.base", "bot.channels"),
    ("bot.services",),
    ("bot.engine", "bot.sdk"),
    ("skills",),
    ("bot.channels.slack", "bot.channels.teams", "bot.channels.console"),
    ("bot.app",),
    ("bot.surfaces", "bot.reports", "bot.conversation_tests", "bot.cli", "bot.healthcheck"),
]
"""The layers, lowest first, each a list of module prefixes (the longest prefix that fits decides)."""

ROOT_PACKAGE = "bot"
"""bot/__init__.py itself: only a docstring, at the bottom (its prefix would put every unlisted module there)."""

SKILLS_LAYER = 5
SDK = "bot.sdk"
ENGINE_LAYER = 4
"""Until ``bot.sdk`` exists, skills may import from the engine's layer and below."""

@dataclass(frozen=True)
class Graph:
    """The modules of bot/ and skills/, each with the modules it imports (lines included)."""

    files: dict[str, Path]
    imports: dict[str, dict[str, int]]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement may refer to (a name after ``from x import`` may be a submodule)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        kept = package[: len(package) - node.level + 1]
        base = ".".join([*kept, base] if base else kept)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _resolve(name: str, files: dict[str, Path]) -> str | None:
    """The module of bot/ or skills/ that ``name`` is, or is inside; None for the standard library and the rest."""
    while name and name not in files:
        name = name.rpartition(".")[0]
    return name or None


@cache
def import_graph() -> Graph:
    """Read every module of bot/ and skills/ and the modules of the two it imports."""
    paths = sorted([*(PROJECT_ROOT / "bot").rglob("*.py"), *(PROJECT_ROOT / "skills").rglob("*.py")])
    files = {_module_name(path): path for path in paths}
    imports: dict[str, dict[str, int]] = {}
    for module, path in files.items():
        found: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for name in _imported_names(node, module, path.name == "__init__.py"):
                    target = _resolve(name, files)
                    if target and target != module:
                        found.setdefault(target, node.lineno)
        imports[module] = found
    return Graph(files, imports)


def layer_of(module: str) -> int | None:
    """The layer of ``module``: that of the longest prefix in LAYERS it matches, or None."""
    if module == ROOT_PACKAGE:
        return 0
    best: tuple[int, int] | None = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return best[1] if best else None


def upward_imports(module: str) -> list[str]:
    """The imports of ``module`` that break the layering, as ``"line N: target (layer L)"``."""
    graph = import_graph()
    own = layer_of(module)
    assert own is not None
    has_sdk = SDK in graph.files
    broken = []
    for target, line in sorted(graph.imports[module].items(), key=lambda item: (item[1], item[0])):
        theirs = layer_of(target)
        assert theirs is not None, f"{target} is in no layer"
        if own == SKILLS_LAYER and theirs != SKILLS_LAYER:
            allowed = target == SDK if has_sdk else theirs <= ENGINE_LAYER
        else:
            allowed = theirs <= own
        if not allowed:
            broken.append(f"line {line}: {target} (layer {theirs})")
    return broken


def import_circles() -> list[list[str]]:
    """The strongly connected parts of the graph with more than one module (Tarjan), each sorted."""
    edges = import_graph().imports
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == module:
                    break
            if len(part) > 1:
                circles.append(sorted(part))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(circles)


def _one_cycle(members: list[str]) -> list[str]:
    """One closed path through the circle's modules, to show where to cut."""
    inside = set(members)
    edges = import_graph().imports
    start = members[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        module = queue.pop(0)
        for target in sorted(edges[module]):
            if target == start:
                return [*paths[module], start]
            if target in inside and target not in paths:
                paths[target] = [*paths[module], target]
                queue.append(target)
    return members


def test_every_module_has_a_layer() -> None:
    """A new folder or top-level module gets its place in LAYERS before it is used."""
    assert [module for module in import_graph().files if layer_of(module) is None] == []


@pytest.mark.parametrize("module", sorted(import_graph().files))
def test_imports_point_down(module: str) -> None:
    """The module imports only from its own layer or lower ones (skills: only bot.sdk once it exists)."""
    broken = upward_imports(module)
    assert broken == [], f"{module} (layer {layer_of(module)}) imports upwards: {broken}"


def test_no_import_circle() -> None:
    """No module of bot/ or skills/ reaches itself through imports, however long the way."""
    circles = import_circles()
    described = [f"{len(circle)} modules {circle}, e.g. {' -> '.join(_one_cycle(circle))}" for circle in circles]
    assert circles == [], "import circles: " + " | ".join(described)
