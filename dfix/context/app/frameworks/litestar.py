"""Litestar: its app and Router objects, whose route_handlers= list the handlers: functions decorated with
@get("/path") / @post / ... / @route(path, http_method=...), Routers (their path= a prefix) and Controller
classes (their ``path`` attribute a prefix of their decorated methods)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..source import _arg, _cst, _Mod, _Scope
from ..values import _Local, _Obj

if TYPE_CHECKING:
    from ..analysis import Analysis

CONSTRUCTORS = {
    "litestar.Litestar": ("app", "litestar", "asgi"),
    "litestar.app.Litestar": ("app", "litestar", "asgi"),
    "litestar.Router": ("router", "litestar", None),
    "litestar.router.Router": ("router", "litestar", None),
}
_METHODS = {"get", "post", "put", "patch", "delete", "head"}
_CONTROLLERS = {"litestar.Controller", "litestar.controller.Controller"}

RouteAt = tuple[str, tuple[str, ...], _Mod, int]


def _join(*parts: str) -> str:
    """Litestar's path normalisation: one leading slash, no trailing or doubled ones."""
    return "/" + "/".join(p.strip("/") for p in parts if p.strip("/"))


def own_prefix(an: Analysis, obj: _Obj) -> str | None:
    if obj.kind != "router":
        return ""
    path = an.evaluate(obj.scope, _arg(obj.call, 0, "path"))
    if not isinstance(path, str):
        an.note(f"{obj.scope.mod.rel}:{obj.scope.mod.line(obj.call)}: the Router path is not a constant dfix can read.")
        return None
    return _join(path) if path.strip("/") else ""


def declared_routes(an: Analysis, obj: _Obj, seen: set[int]) -> list[RouteAt]:
    """The routes of the route_handlers= list the app or Router is made with."""
    cst = _cst()
    handlers = _arg(obj.call, 0 if obj.kind == "app" else None, "route_handlers")
    if handlers is None:
        return []
    scope = obj.scope
    if isinstance(handlers, (cst.Name, cst.Attribute)):
        ref = an.resolve(scope, handlers)
        if isinstance(ref, _Local) and ref.bindings[-1].kind == "assign":
            scope, handlers = ref.bindings[-1].scope, ref.bindings[-1].node
    if not isinstance(handlers, (cst.List, cst.Tuple)):
        an.note(f"{scope.mod.rel}:{scope.mod.line(handlers)}: dfix cannot read the route_handlers list.")
        return []
    out: list[RouteAt] = []
    for element in handlers.elements:
        if isinstance(element, cst.StarredElement):
            an.note(f"{scope.mod.rel}:{scope.mod.line(element)}: dfix cannot read a *-unpacked route_handlers entry.")
            continue
        item = element.value
        child = an.app_object(scope, item)
        if child is not None:
            out.extend(an.object_routes(child, seen))
            continue
        ref = an.resolve(scope, item)
        if not isinstance(ref, _Local):
            an.note(f"{scope.mod.rel}:{scope.mod.line(item)}: dfix cannot tell which handler {scope.mod.code(item)} is.")
            continue
        binding = ref.bindings[-1]
        if binding.kind == "def":
            out.extend(_handler_routes(an, binding.scope, binding.node, ""))
        elif binding.kind == "class" and _is_controller(an, binding.scope, binding.node):
            out.extend(_controller_routes(an, binding.scope, binding.node))
    return out


def _handler_routes(an: Analysis, scope: _Scope, func: Any, prefix: str) -> list[RouteAt]:
    """A function's @get(...)/@route(...) decorators as routes."""
    cst = _cst()
    mod = scope.mod
    out: list[RouteAt] = []
    for decorator in func.decorators:
        call = decorator.decorator
        if not isinstance(call, cst.Call):
            continue
        qual = an.qual(scope, call.func) or ""
        kind = qual.rsplit(".", 1)[-1]
        if not qual.startswith("litestar.") or kind not in (*_METHODS, "route"):
            continue
        if kind == "route":
            given = an.evaluate(scope, _arg(call, None, "http_method"))
            given = [given] if isinstance(given, str) else given
            if not (isinstance(given, list) and given and all(isinstance(m, str) for m in given)):
                an.note(f"{mod.rel}:{mod.line(call)}: the route's http_method is not a constant dfix can read.")
                continue
            methods = tuple(m.upper() for m in given)
        else:
            methods = (kind.upper(),)
        path_arg = _arg(call, 0, "path")
        paths = [""] if path_arg is None else an.evaluate(scope, path_arg)
        paths = [paths] if isinstance(paths, str) else paths
        if not (isinstance(paths, list) and all(isinstance(p, str) for p in paths)):
            an.note(f"{mod.rel}:{mod.line(call)}: the route path is not a constant dfix can read.")
            continue
        out.extend((_join(prefix, path), methods, mod, mod.line(decorator)) for path in paths)
    return out


def _is_controller(an: Analysis, scope: _Scope, cls: Any) -> bool:
    return any(an.qual(scope, base.value) in _CONTROLLERS for base in cls.bases)


def _controller_routes(an: Analysis, scope: _Scope, cls: Any) -> list[RouteAt]:
    """A Controller's decorated methods under its ``path``."""
    cst = _cst()
    prefix = ""
    out: list[RouteAt] = []
    for stmt in cls.body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                target = small.targets[0].target if isinstance(small, cst.Assign) and len(small.targets) == 1 else \
                    small.target if isinstance(small, cst.AnnAssign) else None
                if isinstance(target, cst.Name) and target.value == "path":
                    value = an.evaluate(scope, small.value)
                    if not isinstance(value, str):
                        an.note(f"{scope.mod.rel}:{scope.mod.line(small)}: the Controller path is not a constant dfix can read.")
                        return []
                    prefix = value
    for stmt in cls.body.body:
        if isinstance(stmt, cst.FunctionDef):
            out.extend(_handler_routes(an, scope, stmt, prefix))
    return out
