"""FastAPI: its app and APIRouter objects; a router's own prefix. Its routes= lists are Starlette's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..source import _arg
from ..values import _Obj
from .starlette import declared_routes  # noqa: F401  (FastAPI(routes=[...]) is Starlette's shape)

if TYPE_CHECKING:
    from ..analysis import Analysis

CONSTRUCTORS = {
    "fastapi.FastAPI": ("app", "fastapi", "asgi"),
    "fastapi.applications.FastAPI": ("app", "fastapi", "asgi"),
    "fastapi.APIRouter": ("router", "fastapi", None),
    "fastapi.routing.APIRouter": ("router", "fastapi", None),
}


def own_prefix(an: Analysis, obj: _Obj) -> str | None:
    """A router's prefix=, which its routes carry wherever it is included; None when unreadable."""
    if obj.kind != "router":
        return ""
    scope, call = obj.scope, obj.call
    value = an.evaluate(scope, _arg(call, None, "prefix")) if _arg(call, None, "prefix") is not None else ""
    if not isinstance(value, str):
        an.note(f"{scope.mod.rel}:{scope.mod.line(call)}: the router prefix is not a constant dfix can read.")
        return None
    return value
