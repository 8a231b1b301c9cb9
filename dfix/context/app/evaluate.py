"""A small evaluator of the app's Python: what a name or attribute refers to (through scopes, imports and
star imports), which app/router/blueprint object an expression is, and constant values (ENV read through
os.environ and os.getenv)."""

from __future__ import annotations

from typing import Any

from .source import _arg, _Binding, _cst, _Mod, _Scope, _statements
from .values import UNKNOWN, _Ext, _Local, _ModRef, _Obj

_ENV_GETTERS = {"os.environ.get", "os.getenv"}


class Evaluator:
    """Names, app objects and constants, evaluated without running the app."""

    def lookup(self, scope: _Scope, name: str, depth: int = 0) -> list[_Binding] | None:
        current: _Scope | None = scope
        while current is not None:
            if name in current.bindings:
                return current.bindings[name]
            current = current.parent
        top = scope.mod.top
        if depth < 5 and top is not None:
            for star in reversed(top.stars):
                mod = self.load_module(star)
                if mod is not None and mod.top is not None:
                    found = self.lookup(mod.top, name, depth + 1)
                    if found:
                        return found
        return None

    def resolve(self, scope: _Scope, expr: Any, depth: int = 0) -> _Ext | _ModRef | _Local | None:
        cst = _cst()
        if depth > 20:
            return None
        if isinstance(expr, cst.Name):
            bindings = self.lookup(scope, expr.value)
            if not bindings:
                return None
            return self.from_binding(expr.value, bindings, depth)
        if isinstance(expr, cst.Attribute):
            base = self.resolve(scope, expr.value, depth + 1)
            attr = expr.attr.value
            if isinstance(base, _Ext):
                return _Ext(f"{base.qual}.{attr}")
            if isinstance(base, _ModRef):
                return self.member(base.mod, attr, depth + 1)
        return None

    def from_binding(self, name: str, bindings: list[_Binding], depth: int) -> _Ext | _ModRef | _Local | None:
        binding = bindings[-1]
        if binding.kind == "import":
            mod = self.load_module(binding.target)
            return _ModRef(mod) if mod is not None else _Ext(binding.target)
        if binding.kind == "from":
            mod = self.load_module(binding.target)
            if mod is None:
                sub = self.load_module(f"{binding.target}.{binding.attr}")
                return _ModRef(sub) if sub is not None else _Ext(f"{binding.target}.{binding.attr}")
            return self.member(mod, binding.attr, depth + 1)
        if binding.kind in ("assign", "def", "class"):
            return _Local(name, [b for b in bindings if b.kind in ("assign", "def", "class")])
        return None

    def member(self, mod: _Mod, attr: str, depth: int) -> _Ext | _ModRef | _Local | None:
        bindings = self.lookup(mod.top, attr) if mod.top is not None else None
        if bindings:
            return self.from_binding(attr, bindings, depth)
        if mod.package:
            sub = self.load_module(f"{mod.name}.{attr}")
            if sub is not None:
                return _ModRef(sub)
        return None

    def qual(self, scope: _Scope, expr: Any) -> str | None:
        ref = self.resolve(scope, expr)
        return ref.qual if isinstance(ref, _Ext) else None

    def app_object(self, scope: _Scope, expr: Any, depth: int = 0) -> _Obj | None:
        """The app/router/blueprint object an expression evaluates to, if dfix can tell."""
        cst = _cst()
        if depth > 12 or expr is None:
            return None
        if isinstance(expr, cst.Call):
            if id(expr) in self.objs:
                return self.objs[id(expr)]
            from .frameworks import CONSTRUCTORS  # loaded by the first call read, not by every run

            callee = self.resolve(scope, expr.func)
            if isinstance(callee, _Ext) and callee.qual in CONSTRUCTORS:
                kind, framework, interface = CONSTRUCTORS[callee.qual]
                obj = _Obj(kind, framework, interface, expr, scope, None)
                self.objs[id(expr)] = obj
                return obj
            if isinstance(callee, _Local) and callee.bindings[-1].kind == "def":
                binding = callee.bindings[-1]
                return self.returned(binding.scope, binding.node, depth + 1)
            return None
        ref = self.resolve(scope, expr)
        if isinstance(ref, _Local):
            for binding in reversed(ref.bindings):
                if binding.kind != "assign":
                    return None
                obj = self.app_object(binding.scope, binding.node, depth + 1)
                if obj is not None:
                    if obj.name is None and isinstance(binding.node, cst.Call) and obj.call is binding.node:
                        obj.name = ref.name
                    return obj
                # `app = SomeMiddleware(app)` wraps the app made above; its routes are still served
                if not (isinstance(binding.node, cst.Call) and any(
                        isinstance(a.value, cst.Name) and a.value.value == ref.name for a in binding.node.args)):
                    return None
        return None

    def returned(self, scope: _Scope, func: Any, depth: int) -> _Obj | None:
        """The object a factory function returns."""
        cst = _cst()
        inner = self.func_scope(scope, func)
        for stmt in _statements(func.body, None):
            if isinstance(stmt, cst.Return) and stmt.value is not None:
                obj = self.app_object(inner, stmt.value, depth + 1)
                if obj is not None:
                    if obj.factory is None and obj.scope is inner:
                        obj.factory = func
                    return obj
        return None

    def evaluate(self, scope: _Scope, expr: Any, used: list[str] | None = None, depth: int = 0) -> Any:
        """A constant value (str, int, bool, None, list) or UNKNOWN; reads ENV through os.environ/getenv."""
        cst = _cst()
        if depth > 15 or expr is None:
            return UNKNOWN
        used = used if used is not None else []
        if isinstance(expr, cst.SimpleString):
            value = expr.evaluated_value
            return value if isinstance(value, str) else UNKNOWN
        if isinstance(expr, cst.ConcatenatedString):
            left, right = self.evaluate(scope, expr.left, used, depth + 1), self.evaluate(scope, expr.right, used, depth + 1)
            return left + right if isinstance(left, str) and isinstance(right, str) else UNKNOWN
        if isinstance(expr, cst.FormattedString):
            out = []
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    if "\\" in part.value or "{{" in part.value or "}}" in part.value:
                        return UNKNOWN
                    out.append(part.value)
                else:
                    if part.conversion or part.format_spec:
                        return UNKNOWN
                    value = self.evaluate(scope, part.expression, used, depth + 1)
                    if value is UNKNOWN or isinstance(value, list):
                        return UNKNOWN
                    out.append(str(value))
            return "".join(out)
        if isinstance(expr, cst.Integer):
            value = expr.evaluated_value
            return value if isinstance(value, int) else UNKNOWN
        if isinstance(expr, (cst.List, cst.Tuple)):
            items = []
            for element in expr.elements:
                if isinstance(element, cst.StarredElement):
                    return UNKNOWN
                items.append(self.evaluate(scope, element.value, used, depth + 1))
            return items
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            left, right = self.evaluate(scope, expr.left, used, depth + 1), self.evaluate(scope, expr.right, used, depth + 1)
            if type(left) is type(right) and isinstance(left, (str, int, list)) and not isinstance(left, bool):
                return left + right
            return UNKNOWN
        if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[expr.value]
        if isinstance(expr, cst.Subscript):
            if self.qual(scope, expr.value) == "os.environ" and len(expr.slice) == 1:
                key = self.evaluate(scope, getattr(expr.slice[0].slice, "value", None), used, depth + 1)
                if isinstance(key, str) and key in self.env:
                    used.append(key)
                    return self.env[key]
            return UNKNOWN
        if isinstance(expr, cst.Call):
            qual = self.qual(scope, expr.func)
            if qual in _ENV_GETTERS:
                key = self.evaluate(scope, _arg(expr, 0, "key"), used, depth + 1)
                if not isinstance(key, str):
                    return UNKNOWN
                if key in self.env:
                    used.append(key)
                    return self.env[key]
                default = _arg(expr, 1, "default")
                return None if default is None else self.evaluate(scope, default, used, depth + 1)
            if isinstance(expr.func, cst.Name) and expr.func.value in ("int", "str") \
                    and self.lookup(scope, expr.func.value) is None and len(expr.args) == 1:
                value = self.evaluate(scope, expr.args[0].value, used, depth + 1)
                if expr.func.value == "str" and isinstance(value, (str, int)) and not isinstance(value, bool):
                    return str(value)
                if expr.func.value == "int":
                    if isinstance(value, int) and not isinstance(value, bool):
                        return value
                    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
                        return int(value)
            return UNKNOWN
        if isinstance(expr, (cst.Name, cst.Attribute)):
            ref = self.resolve(scope, expr)
            if isinstance(ref, _Local):
                last = ref.bindings[-1]
                if last.kind == "assign":
                    return self.evaluate(last.scope, last.node, used, depth + 1)
        return UNKNOWN
