"""Django: the settings module (DJANGO_SETTINGS_MODULE in ENV or code, manage.py's choice), WSGI_APPLICATION,
and the routes of ROOT_URLCONF's urlpatterns through include()."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..analysis import Analysis

from ..route import Route
from ..source import _arg, _calls_in, _cst, _dotted, _Mod, _Scope, _statements
from ..values import UNKNOWN, _Local, _ModRef

CONSTRUCTORS = {
    "django.core.wsgi.get_wsgi_application": ("app", "django", "wsgi"),
    "django.core.asgi.get_asgi_application": ("app", "django", "asgi"),
    "channels.routing.ProtocolTypeRouter": ("app", "django", "asgi"),
}
_DJANGO_PATHS = {"django.urls.path", "django.urls.re_path", "django.conf.urls.url", "django.urls.conf.path", "django.urls.conf.re_path"}


_DJANGO_INCLUDE = {"django.urls.include", "django.conf.urls.include", "django.urls.conf.include"}


def settings_module(an: Analysis, mod: _Mod | None) -> str | None:
    """DJANGO_SETTINGS_MODULE for code that runs ``mod``: os.environ[...] = x in it wins over ENV;
    ENV wins over its os.environ.setdefault(...); manage.py's choice is the last guess."""
    if mod is None:
        return an.env.get("DJANGO_SETTINGS_MODULE") or _settings_from_manage(an)
    cst = _cst()
    forced = default = None
    for scope in an.all_scopes(mod):
        for stmt in _statements(scope.body, scope.as_main):
            if isinstance(stmt, cst.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0].target, cst.Subscript):
                target = stmt.targets[0].target
                if an.qual(scope, target.value) == "os.environ" and len(target.slice) == 1 \
                        and an.evaluate(scope, getattr(target.slice[0].slice, "value", None)) == "DJANGO_SETTINGS_MODULE":
                    value = an.evaluate(scope, stmt.value)
                    if isinstance(value, str):
                        forced = value
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef, cst.If, cst.Try, cst.With, cst.For, cst.While)):
                continue
            for call in _calls_in(stmt):
                if an.qual(scope, call.func) == "os.environ.setdefault" \
                        and an.evaluate(scope, _arg(call, 0, "key")) == "DJANGO_SETTINGS_MODULE":
                    value = an.evaluate(scope, _arg(call, 1, "default"))
                    if isinstance(value, str) and default is None:
                        default = value
    found = forced or an.env.get("DJANGO_SETTINGS_MODULE") or default
    if found is None and not mod.rel.endswith("manage.py"):
        found = _settings_from_manage(an)
        if found is not None:
            an.note(f"{mod.rel} does not name its settings module; dfix took manage.py's, {found}.")
    return found


def _settings_from_manage(an: Analysis) -> str | None:
    rel = an.context_file(posixpath.join(an.cwd, "manage.py"))
    if rel is None:
        return None
    mod = an.load(rel, "manage", an.cwd)
    return settings_module(an, mod) if mod is not None else None


def routes_from_settings(an: Analysis, settings_name: str, app_from_settings: bool) -> None:
    an.f.framework = "django"
    settings = an.load_module(settings_name)
    if settings is None:
        an.note(f"The Django settings module {settings_name} is not in the build context.")
        return
    root_urlconf = _setting(an, settings, "ROOT_URLCONF")
    if app_from_settings:
        wsgi = _setting(an, settings, "WSGI_APPLICATION")
        if isinstance(wsgi, str) and "." in wsgi:
            module, _, variable = wsgi.rpartition(".")
            found = an.find_module(module)
            an.f.module, an.f.variable = module, variable
            if found:
                an.f.file, an.f.module_root = found[0], found[1]
    if not isinstance(root_urlconf, str):
        an.note(f"ROOT_URLCONF in {settings.rel} is missing or not a constant dfix can read.")
        return
    urls = an.load_module(root_urlconf)
    if urls is None:
        an.note(f"The URL configuration {root_urlconf} is not in the build context.")
        return
    an.f.routes = [Route(path, ("*",), mod.rel, line) for path, mod, line in _urlpatterns(an, urls, "", set())]


def _setting(an: Analysis, settings: _Mod, name: str) -> Any:
    bindings = an.lookup(settings.top, name)
    if not bindings or bindings[-1].kind != "assign":
        return None
    return an.evaluate(bindings[-1].scope, bindings[-1].node)


def _urlpatterns(an: Analysis, mod: _Mod, prefix: str, seen: set[str]) -> list[tuple[str, _Mod, int]]:
    if mod.rel in seen or mod.top is None:
        return []
    seen = seen | {mod.rel}
    cst = _cst()
    out: list[tuple[str, _Mod, int]] = []
    bindings = an.lookup(mod.top, "urlpatterns")
    if not bindings:
        an.note(f"{mod.rel} defines no urlpatterns.")
        return []
    assigned = [b for b in bindings if b.kind == "assign"]
    if assigned:
        binding = assigned[-1]
        out.extend(_pattern_list(an, binding.scope, binding.node, prefix, seen))
    for stmt in _statements(mod.tree, False):
        if isinstance(stmt, cst.AugAssign) and isinstance(stmt.target, cst.Name) and stmt.target.value == "urlpatterns":
            out.extend(_pattern_list(an, mod.top, stmt.value, prefix, seen))
        elif isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call) and isinstance(stmt.value.func, cst.Attribute) \
                and _dotted(stmt.value.func.value) == "urlpatterns" and stmt.value.args:
            method = stmt.value.func.attr.value
            if method == "append":
                out.extend(_pattern_item(an, mod.top, stmt.value.args[0].value, prefix, seen))
            elif method == "extend":
                out.extend(_pattern_list(an, mod.top, stmt.value.args[0].value, prefix, seen))
    return out


def _pattern_list(an: Analysis, scope: _Scope, expr: Any, prefix: str, seen: set[str]) -> list[tuple[str, _Mod, int]]:
    cst = _cst()
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return _pattern_list(an, scope, expr.left, prefix, seen) + _pattern_list(an, scope, expr.right, prefix, seen)
    if isinstance(expr, (cst.List, cst.Tuple)):
        out = []
        for element in expr.elements:
            if not isinstance(element, cst.StarredElement):
                out.extend(_pattern_item(an, scope, element.value, prefix, seen))
        return out
    if isinstance(expr, cst.Name):
        ref = an.resolve(scope, expr)
        if isinstance(ref, _Local) and ref.bindings[-1].kind == "assign":
            return _pattern_list(an, ref.bindings[-1].scope, ref.bindings[-1].node, prefix, seen)
    if isinstance(expr, cst.Call):
        qual = an.qual(scope, expr.func) or ""
        if qual.startswith("django.conf.urls.static"):
            return []  # static(...) serves files in DEBUG only
    an.note(f"{scope.mod.rel}:{scope.mod.line(expr)}: dfix cannot read these URL patterns.")
    return []


def _pattern_item(an: Analysis, scope: _Scope, item: Any, prefix: str, seen: set[str]) -> list[tuple[str, _Mod, int]]:
    cst = _cst()
    mod = scope.mod
    if not isinstance(item, cst.Call):
        return []
    qual = an.qual(scope, item.func)
    if qual not in _DJANGO_PATHS:
        return []
    route = an.evaluate(scope, _arg(item, 0, "route", "regex"))
    if not isinstance(route, str):
        an.note(f"{mod.rel}:{mod.line(item)}: the URL pattern is not a constant dfix can read.")
        return []
    if qual.endswith(("re_path", "url")):
        route = _regex_path(route)
        if route is None:
            return []  # a real regular expression: no single path to name
    view = _arg(item, 1, "view")
    if isinstance(view, cst.Call) and an.qual(scope, view.func) in _DJANGO_INCLUDE:
        return _include(an, scope, view, prefix + route, seen)
    if isinstance(view, cst.Attribute) and view.attr.value == "urls":
        return []  # admin.site.urls and routers: their own URL sets, not one endpoint
    return [("/" + prefix + route, mod, mod.line(item))]


def _include(an: Analysis, scope: _Scope, call: Any, prefix: str, seen: set[str]) -> list[tuple[str, _Mod, int]]:
    cst = _cst()
    target = _arg(call, 0, "arg")
    if isinstance(target, cst.Tuple) and target.elements:
        target = target.elements[0].value
    value = an.evaluate(scope, target) if isinstance(target, (cst.SimpleString, cst.ConcatenatedString)) else UNKNOWN
    if isinstance(value, str):
        mod = an.load_module(value)
        if mod is None:
            an.note(f"The included URL configuration {value} is not in the build context.")
            return []
        return _urlpatterns(an, mod, prefix, seen)
    if isinstance(target, (cst.List, cst.Tuple)):
        return _pattern_list(an, scope, target, prefix, seen)
    ref = an.resolve(scope, target) if target is not None else None
    if isinstance(ref, _ModRef):
        return _urlpatterns(an, ref.mod, prefix, seen)
    if isinstance(ref, _Local) and ref.bindings[-1].kind == "assign":
        return _pattern_list(an, ref.bindings[-1].scope, ref.bindings[-1].node, prefix, seen)
    an.note(f"{scope.mod.rel}:{scope.mod.line(call)}: dfix cannot follow this include().")
    return []


def _regex_path(pattern: str) -> str | None:
    """The one path a simple re_path pattern matches (`^healthz/?$` → `healthz`), else None."""
    text = pattern
    if text.startswith("^"):
        text = text[1:]
    for end in ("\\Z", "$"):
        if text.endswith(end):
            text = text[: -len(end)]
    if text.endswith("/?"):
        text = text[:-2]
    unescaped = re.sub(r"\\(.)", r"\1", text)
    if re.search(r"[\\^$.|?*+()\[\]{}]", re.sub(r"\\.", "", text)):
        return None
    return unescaped
