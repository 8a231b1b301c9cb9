"""Flask: its app and blueprint objects and how a blueprint's url_prefix joins a rule. Its decorators
(@app.route, @bp.get) and register_blueprint/add_url_rule calls are read in ../routes.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..source import _arg
from ..values import UNKNOWN, _Obj

if TYPE_CHECKING:
    from ..analysis import Analysis

CONSTRUCTORS = {
    "flask.Flask": ("app", "flask", "wsgi"),
    "flask.app.Flask": ("app", "flask", "wsgi"),
    "flask.Blueprint": ("blueprint", "flask", None),
    "flask.blueprints.Blueprint": ("blueprint", "flask", None),
}


def blueprint_path(an: Analysis, child: _Obj, prefix: str | None, path: str) -> str:
    """A blueprint route's path where it is registered: register_blueprint's url_prefix, else the
    blueprint's own."""
    if prefix is None:
        value = _arg(child.call, None, "url_prefix")
        prefix = an.evaluate(child.scope, value) if value is not None else None
        if prefix is UNKNOWN:
            an.note("A blueprint's url_prefix is not a constant dfix can read.")
            prefix = None
    return _flask_join(prefix, path)


def _flask_join(prefix: str | None, rule: str) -> str:
    """Flask's Blueprint: url_prefix and rule joined with exactly one slash."""
    if prefix is None:
        return rule
    if not rule:
        return prefix
    return "/".join((prefix.rstrip("/"), rule.lstrip("/")))
