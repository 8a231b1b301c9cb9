"""Starlette (and FastAPI, built on it): routes=[Route(...), Mount(...)] lists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..source import _arg, _cst, _Mod, _Scope
from ..values import _Local, _Obj

if TYPE_CHECKING:
    from ..analysis import Analysis

CONSTRUCTORS = {
    "starlette.applications.Starlette": ("app", "starlette", "asgi"),
    "starlette.routing.Router": ("router", "starlette", None),
}

_ROUTE_CLASSES = {"starlette.routing.Route", "starlette.routing.Mount", "fastapi.routing.APIRoute", "starlette.routing.WebSocketRoute", "starlette.routing.Host"}


def route_list(an: Analysis, scope: _Scope, expr: Any, seen: set[int], depth: int = 0) -> list[tuple[str, tuple[str, ...], _Mod, int]]:
    """Starlette's routes=[Route(...), Mount(...)] (also through a name bound to the list)."""
    cst = _cst()
    mod = scope.mod
    if depth > 10:
        return []
    if isinstance(expr, (cst.Name, cst.Attribute)):
        ref = an.resolve(scope, expr)
        if isinstance(ref, _Local) and ref.bindings[-1].kind == "assign":
            binding = ref.bindings[-1]
            return route_list(an, binding.scope, binding.node, seen, depth + 1)
        an.note(f"{mod.rel}: dfix cannot read the route list {mod.code(expr)}.")
        return []
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return route_list(an, scope, expr.left, seen, depth + 1) + route_list(an, scope, expr.right, seen, depth + 1)
    if not isinstance(expr, (cst.List, cst.Tuple)):
        an.note(f"{mod.rel}:{mod.line(expr)}: dfix cannot read the route list.")
        return []
    out = []
    for element in expr.elements:
        item = element.value
        if not isinstance(item, cst.Call):
            continue
        qual = an.qual(scope, item.func) or ""
        kind = qual.rsplit(".", 1)[-1]
        if qual not in _ROUTE_CLASSES and not qual.startswith(("starlette.", "fastapi.")):
            continue
        path = an.evaluate(scope, _arg(item, 0, "path"))
        if not isinstance(path, str):
            an.note(f"{mod.rel}:{mod.line(item)}: the route path is not a constant dfix can read.")
            continue
        if kind in ("Route", "APIRoute"):
            given = _arg(item, None, "methods")
            methods = an.evaluate(scope, given) if given is not None else ["GET"]
            if not (isinstance(methods, list) and all(isinstance(m, str) for m in methods)):
                an.note(f"{mod.rel}:{mod.line(item)}: the route's methods are not a constant dfix can read.")
                continue
            out.append((path, tuple(m.upper() for m in methods), mod, mod.line(item)))
        elif kind == "Mount":
            inner = _arg(item, None, "routes")
            if inner is not None:
                children = route_list(an, scope, inner, seen, depth + 1)
            else:
                child = an.app_object(scope, _arg(item, 1, "app"))
                children = an.object_routes(child, seen) if child is not None else []
            out.extend((path.rstrip("/") + p, m, cm, ln) for p, m, cm, ln in children)
    return out


def declared_routes(an: Analysis, obj: _Obj, seen: set[int]) -> list[tuple[str, tuple[str, ...], _Mod, int]]:
    """The routes= list the app or router is made with."""
    routes_arg = _arg(obj.call, None, "routes")
    return route_list(an, obj.scope, routes_arg, seen) if routes_arg is not None else []
