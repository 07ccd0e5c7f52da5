"""The rooms of the house (docs/architecture.md): which package may import which.

Every import in src/mediastudio counts: module level, inside functions, and under `if TYPE_CHECKING:`.
- The kernel (settings, errors, db, events, …) imports only the kernel.
- Features import the kernel and other features, never the composition (app, studio, cli, …), and the
  packages form no cycle: a feature that needs a later one is handed it (a callable, a registry) by the
  composition instead.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import mediastudio

SRC = Path(mediastudio.__file__).parent
DOC = SRC.parent.parent / "docs" / "architecture.md"


def _section(title: str) -> list[str]:
    text = DOC.read_text().split(f"### {title}\n", 1)[1]
    return text.split("\n### ", 1)[0].split("\n## ", 1)[0].splitlines()


def _names(cell: str) -> list[str]:
    return [part.strip().strip("`").removesuffix(".py").rstrip("/") for part in cell.split(",")
            if part.strip() not in ("", "—")]


def kernel_rooms() -> set[str]:
    return {_names(row.split("|")[1])[0] for row in _section("The kernel") if row.startswith("| `")}


def composition_rooms() -> set[str]:
    return {_names(row.split("|")[1])[0] for row in _section("The composition") if row.startswith("| `")} | {"__main__"}


def feature_imports() -> dict[str, set[str]]:
    """Room → the features it may import, as docs/architecture.md lists them (rows `| n | `room` | … | imports |`)."""
    rows = [row.split("|") for row in _section("Features") if row.startswith("| ") and row[2:3].isdigit()]
    return {_names(cells[2])[0]: set(_names(cells[4])) for cells in rows}


KERNEL = kernel_rooms()
COMPOSITION = composition_rooms()
FEATURES = feature_imports()


def room_of(module: str) -> str:
    """`mediastudio.tasks.runner` → `tasks`; `mediastudio.errors` → `errors`; `mediastudio` → `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    parts = ["mediastudio", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    return (SRC / f"{name}.py").is_file() or (SRC / name / "__init__.py").is_file()


def imports_of(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement in the file, wherever it stands."""
    module, found = module_name(path), []
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "mediastudio":  # `from mediastudio import tasks` names submodules; `__version__` is not one
                found += [(f"mediastudio.{a.name}" if _is_module(a.name) else target, node.lineno) for a in node.names]
            else:
                found.append((target, node.lineno))
    return [(name, line) for name, line in found if name == "mediastudio" or name.startswith("mediastudio.")]


def room_edges() -> dict[tuple[str, str], list[str]]:
    """(importing room, imported room) → where ("file:line"), for imports that cross rooms."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(SRC.rglob("*.py")):
        source = room_of(module_name(path))
        for target, line in imports_of(path):
            if room_of(target) != source:
                edges[(source, room_of(target))].append(f"{path.relative_to(SRC.parent)}:{line}")
    return edges


def cycles(edges: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one room (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(room: str) -> None:
        index[room] = low[room] = len(index)
        stack.append(room)
        for nxt in sorted(graph[room]):
            if nxt not in index:
                visit(nxt)
                low[room] = min(low[room], low[nxt])
            elif nxt in stack:
                low[room] = min(low[room], index[nxt])
        if low[room] == index[room]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == room:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for room in sorted(set(graph) | {b for _, b in edges}):
        if room not in index:
            visit(room)
    return groups


def test_every_room_is_in_the_architecture_document() -> None:
    rooms = {room_of(module_name(p)) for p in SRC.rglob("*.py")}
    assert "settings" in KERNEL and "app" in COMPOSITION and "tasks" in FEATURES  # the document was read
    assert rooms == KERNEL | COMPOSITION | set(FEATURES), "docs/architecture.md names other rooms than src/ has"


def test_features_import_only_what_the_document_allows() -> None:
    wrong = {f"{a} → {b}": where for (a, b), where in room_edges().items()
             if a in FEATURES and b in FEATURES and b not in FEATURES[a]}
    assert wrong == {}, "Imports docs/architecture.md does not list for the room (change the code or the document)"


def test_the_document_lists_no_import_that_is_gone() -> None:
    edges = room_edges()
    stale = {room: sorted(b for b in allowed if (room, b) not in edges) for room, allowed in FEATURES.items()}
    gone = {room: rooms for room, rooms in stale.items() if rooms}
    assert gone == {}, "docs/architecture.md lists imports no longer made"


def test_the_document_lists_each_room_above_what_it_imports() -> None:
    order = list(FEATURES)  # the table's rows, bottom up
    wrong = {room: sorted(b for b in allowed if b not in order[:order.index(room)])
             for room, allowed in FEATURES.items() if not allowed <= set(order[:order.index(room)])}
    assert wrong == {}, "docs/architecture.md lets a room import one listed above it (a cycle could follow)"


def test_the_kernel_imports_no_feature() -> None:
    wrong = {f"{a} → {b}": where for (a, b), where in room_edges().items() if a in KERNEL and b not in KERNEL}
    assert wrong == {}, "The kernel imports features or the composition"


def test_features_do_not_import_the_composition() -> None:
    wrong = {f"{a} → {b}": where for (a, b), where in room_edges().items()
             if a not in COMPOSITION and b in COMPOSITION}
    assert wrong == {}, "A feature imports the composition (it should be handed what it needs)"


def test_no_import_cycle_between_packages() -> None:
    edges = room_edges()
    found = cycles(edges)
    explained = [{f"{a} → {b}": edges[(a, b)] for a in group for b in group if (a, b) in edges} for group in found]
    assert found == [], f"Import cycles between packages: {explained}"


def test_the_walk_sees_function_local_and_type_only_imports(tmp_path: Path) -> None:
    sample = SRC / "tasks" / "context.py"  # imports the runner only for type checking
    assert ("mediastudio.tasks.runner", 14) in imports_of(sample) or any(
        name == "mediastudio.tasks.runner" for name, _ in imports_of(sample))
    edges = {("a", "b"): ["x"], ("b", "c"): ["y"], ("c", "a"): ["z"], ("c", "d"): ["w"]}
    assert cycles(edges) == [["a", "b", "c"]]
