"""What an expression stands for: something outside the build context, a module of the app, a name the
app binds, an app/router/blueprint object, or UNKNOWN."""

from __future__ import annotations

from typing import Any

from ...records import record
from .source import _Binding, _Mod, _Scope


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()


@record(eq=False)
class _Ext:
    """Something outside the build context, by qualified name ("fastapi.FastAPI", "os.environ.get")."""

    qual: str


@record(eq=False)
class _ModRef:
    mod: _Mod


@record(eq=False)
class _Local:
    """A name bound in the app's own code: its bindings in source order."""

    name: str
    bindings: list[_Binding]


@record(eq=False)
class _Obj:
    """An app, router or blueprint object, identified by the call that made it."""

    kind: str  # "app", "router", "blueprint"
    framework: str
    interface: str | None
    call: Any
    scope: _Scope
    name: str | None  # the variable the call is assigned to
    factory: Any = None  # the FunctionDef that returns it, when made inside one
