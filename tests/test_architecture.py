"""The package's layout: rooms (subpackages) with curated doors, no private names across rooms, no cycles.

Every import in ``mlreport/`` counts, at module level or inside a function, and
so does ``if TYPE_CHECKING:``: a dependency is a dependency whenever Python
resolves it. A room is a subpackage (``mlreport.drift``; ``mlreport.stress.scenarios``
is a room inside ``mlreport.stress``); each top-level module (``mlreport.data``)
is a room of its own.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mlreport"
TOP_LEVEL_LIMIT = 12


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(name: str) -> bool:
    return (PACKAGE.parent / Path(*name.split(".")) / "__init__.py").is_file()


def room_of(module: str) -> str:
    """The room a module lives in: its innermost package, or the module itself at the top level."""
    if _is_package(module):
        return module
    parent = module.rpartition(".")[0]
    return module if parent == "mlreport" else parent


def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(module: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) of every mlreport import in ``path``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target != "mlreport" and not target.startswith("mlreport."):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                if candidate in modules():  # `from . import data` imports a module
                    found.append((candidate, None, node.lineno))
                else:
                    found.append((target, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("mlreport."):
                    found.append((alias.name, None, node.lineno))
    return found


def room_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in modules().items():
        if module == "mlreport":
            continue  # the public door imports the driver lazily (PEP 562) and sits above every room
        room = room_of(module)
        graph.setdefault(room, set())
        for target, _, _ in imports(module, path):
            if target == "mlreport":
                continue  # __version__
            target_room = room_of(target)
            if target_room != room:
                graph[room].add(target_room)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one room (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

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
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layers(graph: dict[str, set[str]]) -> list[list[str]]:
    """Rooms by layer: layer 0 imports no other room, layer n only rooms below it."""
    placed: dict[str, int] = {}
    remaining = set(graph)
    while remaining:
        ready = {r for r in remaining if all(d in placed for d in graph[r])}
        if not ready:
            break
        for room in ready:
            placed[room] = 1 + max((placed[d] for d in graph[room]), default=-1)
        remaining -= ready
    depth = max(placed.values(), default=-1) + 1
    return [sorted(r for r, layer in placed.items() if layer == n) for n in range(depth)]


def test_no_import_cycle_between_rooms():
    assert cycles(room_graph()) == []


def test_no_private_name_or_private_module_crosses_a_room():
    offences = []
    for module, path in modules().items():
        room = room_of(module)
        for target, name, line in imports(module, path):
            if room_of(target) == room or target == "mlreport":
                continue
            private_module = any(part.startswith("_") for part in target.split(".")[1:])
            if private_module or (name is not None and name.startswith("_")):
                offences.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}.{name or ''}")
    assert offences == []


def test_rooms_import_other_rooms_through_their_door():
    # A module imports another room as `from ..drift import compare`, never from one of its modules.
    offences = []
    for module, path in modules().items():
        room = room_of(module)
        for target, _name, line in imports(module, path):
            target_room = room_of(target)
            if target_room != room and target != target_room and target != "mlreport":
                offences.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert offences == []


def test_at_most_a_dozen_modules_at_the_top():
    top = [p.name for p in PACKAGE.glob("*.py")]
    assert len(top) <= TOP_LEVEL_LIMIT, sorted(top)


ROOMS = sorted({room_of(m) for m in modules() if _is_package(m) and m != "mlreport"})


@pytest.mark.parametrize("room", ROOMS)
def test_every_room_has_a_curated_door(room: str):
    package = importlib.import_module(room)
    assert package.__doc__ and package.__doc__.strip(), f"{room} has no docstring saying what it is for"
    names = getattr(package, "__all__", None)
    assert names, f"{room}/__init__.py lists no public names in __all__"
    assert len(names) == len(set(names)), f"{room}.__all__ repeats a name"
    assert not [n for n in names if n.startswith("_")], f"{room}.__all__ exports a private name"
    missing = [n for n in names if not hasattr(package, n)]
    assert missing == [], f"{room}.__all__ names what it does not define: {missing}"
    modules_here = [p.stem for p in (PACKAGE.parent / Path(*room.split("."))).glob("*.py") if p.stem != "__init__"]
    public = [m for m in modules_here if not m.startswith("_")]
    assert public == [], f"{room} has modules without a leading underscore: {public}"


def test_the_layers_are_what_the_readme_says():
    # The order the architecture is built in, lowest first; a new dependency that breaks it fails here.
    graph = room_graph()
    order = [room for layer in layers(graph) for room in layer]
    assert set(order) == set(graph), "a room is left out of the layers: there is a cycle"
    position = {room: i for i, room in enumerate(order)}
    for room, needs in graph.items():
        for need in needs:
            assert position[need] < position[room], f"{room} imports {need}, which sits above it"
