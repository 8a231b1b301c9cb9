"""Python source through libcst: a parsed module, the names each module or function body binds, and the
statements and calls a body runs (the ``if __name__ == "__main__"`` side chosen)."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from ...records import record


def _cst():
    import libcst

    return libcst


def _module_for_file(relpath: str) -> str:
    """The dotted name of a .py path relative to a sys.path entry."""
    parts = relpath[:-3].split("/") if relpath.endswith(".py") else relpath.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(p for p in parts if p and p != ".")


@record(eq=False)
class _Binding:
    kind: str  # "assign", "def", "class", "import", "from", "unknown"
    scope: "_Scope"
    node: Any = None  # the assigned value, FunctionDef or ClassDef
    target: str | None = None  # dotted module for "import"/"from"
    attr: str | None = None  # imported name for "from"


@record(eq=False)
class _Mod:
    rel: str  # context-relative path
    name: str  # dotted import name (the file's stem for a script)
    package: bool
    text: str
    tree: Any
    pos: Any
    root: str  # container directory the name is relative to
    script: bool = False
    top: "_Scope | None" = None

    def line(self, node: Any) -> int:
        try:
            return self.pos[node].start.line
        except KeyError:
            return 0

    def code(self, node: Any) -> str:
        return self.tree.code_for_node(node)


class _Scope:
    """The names one module or function body binds, in source order."""

    def __init__(self, mod: _Mod, body: Any, parent: "_Scope | None", as_main: bool | None, params: Sequence[str] = ()) -> None:
        self.mod = mod
        self.parent = parent
        self.body = body
        self.as_main = as_main
        self.bindings: dict[str, list[_Binding]] = {}
        self.stars: list[str] = []
        for name in params:
            self._bind(name, _Binding("unknown", self))
        for stmt in _statements(body, as_main):
            self._collect(stmt)

    def _bind(self, name: str, binding: _Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def _collect(self, stmt: Any) -> None:
        cst = _cst()
        if isinstance(stmt, cst.Assign):
            for target in stmt.targets:
                self._bind_target(target.target, stmt.value)
        elif isinstance(stmt, cst.AnnAssign):
            self._bind_target(stmt.target, stmt.value)
        elif isinstance(stmt, cst.Import):
            for alias in stmt.names:
                dotted = _dotted(alias.name)
                if dotted is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._bind(alias.asname.name.value, _Binding("import", self, target=dotted))
                else:
                    first = dotted.split(".")[0]
                    self._bind(first, _Binding("import", self, target=first))
        elif isinstance(stmt, cst.ImportFrom):
            module = _import_from_module(self.mod, stmt)
            if module is None:
                return
            if isinstance(stmt.names, cst.ImportStar):
                self.stars.append(module)
                return
            for alias in stmt.names:
                name = _dotted(alias.name)
                if name is None:
                    continue
                local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
                self._bind(local, _Binding("from", self, target=module, attr=name))
        elif isinstance(stmt, cst.FunctionDef):
            self._bind(stmt.name.value, _Binding("def", self, node=stmt))
        elif isinstance(stmt, cst.ClassDef):
            self._bind(stmt.name.value, _Binding("class", self, node=stmt))
        elif isinstance(stmt, (cst.For, cst.With)):
            targets = [stmt.target] if isinstance(stmt, cst.For) else [i.asname.name for i in stmt.items if i.asname]
            for target in targets:
                for name in _names_in_target(target):
                    self._bind(name, _Binding("unknown", self))

    def _bind_target(self, target: Any, value: Any) -> None:
        cst = _cst()
        if isinstance(target, cst.Name):
            self._bind(target.value, _Binding("assign", self, node=value) if value is not None else _Binding("unknown", self))
        else:
            for name in _names_in_target(target):
                self._bind(name, _Binding("unknown", self))


def _names_in_target(target: Any) -> list[str]:
    cst = _cst()
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _names_in_target(el.value)]
    if isinstance(target, cst.StarredElement):
        return _names_in_target(target.value)
    return []


def _dotted(node: Any) -> str | None:
    cst = _cst()
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _import_from_module(mod: _Mod, stmt: Any) -> str | None:
    level = len(stmt.relative)
    name = _dotted(stmt.module) if stmt.module is not None else ""
    if level == 0:
        return name or None
    package = mod.name if mod.package else mod.name.rpartition(".")[0]
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, name] if name else base) or None


def _is_main_test(test: Any) -> bool | None:
    """True for ``__name__ == "__main__"``, False for ``!=``, None for any other test."""
    cst = _cst()
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    left, comp = test.left, test.comparisons[0]
    sides = [left, comp.comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    if len(names) != 1 or len(strings) != 1:
        return None
    if isinstance(comp.operator, cst.Equal):
        return True
    if isinstance(comp.operator, cst.NotEqual):
        return False
    return None


def _block(body: Any) -> list[Any]:
    """Statements of a Module, IndentedBlock or one-line suite."""
    return list(getattr(body, "body", []) or [])


def _statements(body: Any, as_main: bool | None) -> Iterator[Any]:
    """Small and compound statements a body runs, into if/try/with/for/while blocks but not into def or
    class bodies. ``as_main``: True when the module runs as the script (only the taken side of
    ``if __name__ == "__main__"``), False when it is imported (the other side), None for both."""
    cst = _cst()
    for stmt in _block(body):
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            yield from stmt.body
        elif isinstance(stmt, cst.If):
            yield stmt
            yield from _if_statements(stmt, as_main)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            yield stmt
        elif isinstance(stmt, (cst.Try, getattr(cst, "TryStar", cst.Try))):
            yield stmt
            yield from _statements(stmt.body, as_main)
            for handler in stmt.handlers:
                yield from _statements(handler.body, as_main)
            for extra in (stmt.orelse, stmt.finalbody):
                if extra is not None:
                    yield from _statements(extra.body, as_main)
        elif isinstance(stmt, (cst.With, cst.For, cst.While)):
            yield stmt
            yield from _statements(stmt.body, as_main)
            orelse = getattr(stmt, "orelse", None)
            if orelse is not None:
                yield from _statements(orelse.body, as_main)
        elif isinstance(stmt, cst.Match):
            yield stmt
            for case in stmt.cases:
                yield from _statements(case.body, as_main)
        else:
            yield stmt


def _if_statements(stmt: Any, as_main: bool | None) -> Iterator[Any]:
    cst = _cst()
    main = _is_main_test(stmt.test)
    take_body = take_else = True
    if main is not None and as_main is not None:
        take_body = main == as_main
        take_else = not take_body
    if take_body:
        yield from _statements(stmt.body, as_main)
    orelse = stmt.orelse
    if orelse is not None and take_else:
        if isinstance(orelse, cst.If):
            yield orelse
            yield from _if_statements(orelse, as_main)
        else:
            yield from _statements(orelse.body, as_main)


def _calls_in(node: Any) -> Iterator[Any]:
    """Calls inside one statement (outer before inner), not inside nested defs, lambdas or blocks."""
    cst = _cst()
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.IndentedBlock, cst.SimpleStatementSuite)):
        return
    if isinstance(node, cst.Call):
        yield node
    for child in node.children:
        yield from _calls_in(child)


def _arg(call: Any, position: int | None, *keywords: str) -> Any:
    """The value passed for a parameter, by keyword or position (None when absent or behind * / **)."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in keywords:
            return arg.value
    if position is None:
        return None
    index = 0
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is not None:
            break
        if index == position:
            return arg.value
        index += 1
    return None


def _all_params(params: Any) -> list[Any]:
    cst = _cst()
    out = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            out.append(star)
    return out
