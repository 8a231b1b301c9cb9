"""The shape a newcomer relies on: no module in dfix over 600 lines, the app reader in small modules with
small classes, and no import running in a circle anywhere in dfix (a lazy import inside a function counts;
``if TYPE_CHECKING`` ones do not, since they never run)."""

from __future__ import annotations

import ast
from pathlib import Path

DFIX = Path(__file__).resolve().parent.parent / "dfix"


def _name(path: Path) -> str:
    parts = list(path.relative_to(DFIX.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    name = _name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                 for stmt in node.body for n in ast.walk(stmt)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.add(full if full in modules else target)
    return (found & modules) - {name}


def test_no_module_over_600_lines():
    sizes = {str(p.relative_to(DFIX.parent)): len(p.read_text(encoding="utf-8").splitlines()) for p in DFIX.rglob("*.py")}
    assert len(sizes) > 100  # the whole package was read, subpackages included
    long = {path: lines for path, lines in sorted(sizes.items()) if lines > 600}
    assert not long, f"split these by job: {long}"


def test_no_class_over_300_lines():
    big = {}
    for path in DFIX.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 300:
                big[f"{path.relative_to(DFIX.parent)}:{node.name}"] = node.end_lineno - node.lineno + 1
    assert not big, f"split these by job: {big}"


def test_app_reader_modules_and_classes_stay_small():
    assert (DFIX / "context" / "app" / "facts.py").is_file() and not (DFIX / "context" / "app.py").exists()
    for path in sorted((DFIX / "context" / "app").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 600, f"{path.name} has {len(text.splitlines())} lines"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                size = node.end_lineno - node.lineno + 1
                assert size <= 300, f"{path.name}: class {node.name} has {size} lines"


def test_no_import_circle():
    paths = {_name(p): p for p in DFIX.rglob("*.py")}
    graph = {name: _imports(path, set(paths)) for name, path in paths.items()}
    # relative imports one and two levels up inside subpackages are read as edges
    assert {"dfix.verify.run", "dfix.engine"} <= graph["dfix.verify.image"]
    assert {"dfix.rules._split_runs", "dfix.rules._split_text"} <= graph["dfix.rules._split_plan"]
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                circle = trail[trail.index(target):] + [target]
                raise AssertionError("import circle: " + " -> ".join(circle))
            if target not in state:
                visit(target, [*trail, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
