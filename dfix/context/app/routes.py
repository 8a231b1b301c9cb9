"""Route discovery shared by the frameworks: decorators and include/register/mount calls on app, router and
blueprint objects in the app's modules, and the routes an object serves with its children's prefixes."""

from __future__ import annotations

from typing import Any, Iterator

from .route import Route
from .source import _arg, _calls_in, _cst, _Mod, _Scope, _statements
from .values import UNKNOWN, _Obj

_METHOD_DECORATORS = {"get", "post", "put", "delete", "patch", "head", "options", "trace"}


class RouteDiscovery:
    """The routes of an app object, across the modules the app imports."""

    def routes_of(self, app: _Obj) -> list[Route]:
        for mod in [*self.entry, app.scope.mod]:
            self.scan_registrations(mod)
        routes: list[Route] = []
        for path, methods, mod, line in self.object_routes(app, set()):
            routes.append(Route(path, methods, mod.rel, line))
        return routes

    def scan_registrations(self, start: _Mod) -> None:
        """Decorators and include/register/mount calls in the app's module and the local modules it imports."""
        pending = [start]
        while pending:
            mod = pending.pop(0)
            if mod.rel in self.scanned or mod.top is None:
                continue
            self.scanned.add(mod.rel)
            for scope in self.all_scopes(mod):
                pending.extend(self.imported_modules(scope))
                self.scan_scope(scope)

    def all_scopes(self, mod: _Mod) -> Iterator[_Scope]:
        cst = _cst()
        todo = [mod.top]
        while todo:
            scope = todo.pop(0)
            yield scope
            for stmt in _statements(scope.body, scope.as_main):
                if isinstance(stmt, cst.FunctionDef):
                    todo.append(self.func_scope(scope, stmt))

    def imported_modules(self, scope: _Scope) -> list[_Mod]:
        out = []
        for bindings in scope.bindings.values():
            for binding in bindings:
                if binding.kind == "import":
                    mod = self.load_module(binding.target)
                elif binding.kind == "from":
                    mod = self.load_module(binding.target)
                    sub = self.load_module(f"{binding.target}.{binding.attr}") if mod is None or mod.package else None
                    if sub is not None:
                        out.append(sub)
                else:
                    continue
                if mod is not None:
                    out.append(mod)
        for star in scope.stars:
            mod = self.load_module(star)
            if mod is not None:
                out.append(mod)
        return out

    def register(self, obj: _Obj, entry: tuple) -> None:
        self.registrations.setdefault(id(obj.call), []).append(entry)

    def scan_scope(self, scope: _Scope) -> None:
        cst = _cst()
        mod = scope.mod
        for stmt in _statements(scope.body, scope.as_main):
            if isinstance(stmt, cst.FunctionDef):
                for decorator in stmt.decorators:
                    dec = decorator.decorator
                    if not (isinstance(dec, cst.Call) and isinstance(dec.func, cst.Attribute)):
                        continue
                    obj = self.app_object(scope, dec.func.value)
                    if obj is None:
                        continue
                    route = self.route_call(scope, dec, dec.func.attr.value, obj, decorator=True)
                    if route is not None:
                        self.register(obj, ("route", *route, mod, mod.line(decorator)))
                continue
            if isinstance(stmt, (cst.ClassDef, cst.If, cst.Try, cst.With, cst.For, cst.While, cst.Match)):
                continue
            for call in _calls_in(stmt):
                if not isinstance(call.func, cst.Attribute):
                    continue
                method = call.func.attr.value
                if method not in ("include_router", "register_blueprint", "mount", "add_url_rule", "add_api_route", "add_route", "route"):
                    continue
                obj = self.app_object(scope, call.func.value)
                if obj is None:
                    continue
                line = mod.line(call)
                if method in ("include_router", "register_blueprint"):
                    child = self.app_object(scope, _arg(call, 0, "router", "blueprint"))
                    if child is None:
                        self.note(f"{mod.rel}:{line}: dfix cannot tell which router {method} adds.")
                        continue
                    key = "prefix" if method == "include_router" else "url_prefix"
                    prefix = self.evaluate(scope, _arg(call, None, key)) if _arg(call, None, key) is not None else None
                    if prefix is UNKNOWN:
                        self.note(f"{mod.rel}:{line}: the {key} is not a constant dfix can read.")
                        continue
                    self.register(obj, ("child", child, prefix, "fastapi" if method == "include_router" else "flask"))
                elif method == "mount":
                    path = self.evaluate(scope, _arg(call, 0, "path"))
                    child = self.app_object(scope, _arg(call, 1, "app"))
                    if isinstance(path, str) and child is not None:
                        self.register(obj, ("child", child, path, "mount"))
                else:
                    route = self.route_call(scope, call, method, obj, decorator=False)
                    if route is not None:
                        self.register(obj, ("route", *route, mod, line))

    def route_call(self, scope: _Scope, call: Any, method: str, obj: _Obj, decorator: bool) -> tuple[str, tuple[str, ...]] | None:
        """(path, methods) of @x.get(path), @x.route(path, methods=...), x.add_url_rule(...) and kin."""
        if method in _METHOD_DECORATORS:
            methods: Any = (method.upper(),)
        elif method in ("route", "api_route", "add_url_rule", "add_api_route", "add_route"):
            if method == "route" and not decorator:
                return None
            given = _arg(call, None, "methods")
            if given is None:
                methods = ("GET",)
            else:
                value = self.evaluate(scope, given)
                if not (isinstance(value, list) and all(isinstance(m, str) for m in value)):
                    self.note(f"{scope.mod.rel}:{scope.mod.line(call)}: the route's methods are not a constant dfix can read.")
                    return None
                methods = tuple(m.upper() for m in value)
        else:
            return None
        path = self.evaluate(scope, _arg(call, 0, "path", "rule"))
        if not isinstance(path, str):
            self.note(f"{scope.mod.rel}:{scope.mod.line(call)}: the route path is not a constant dfix can read.")
            return None
        return path, methods

    def object_routes(self, obj: _Obj, seen: set[int]) -> list[tuple[str, tuple[str, ...], _Mod, int]]:
        """Routes an object serves, with paths relative to where it is mounted (a FastAPI router's own
        prefix included; a Flask blueprint's url_prefix is applied where it is registered)."""
        if id(obj.call) in seen:
            return []
        seen = seen | {id(obj.call)}
        from .frameworks import FRAMEWORKS, flask  # loaded once an app object is found, not by every run

        call = obj.call
        framework = FRAMEWORKS[obj.framework]
        own_prefix = framework.own_prefix(self, obj) if hasattr(framework, "own_prefix") else ""
        if own_prefix is None:
            return []
        out: list[tuple[str, tuple[str, ...], _Mod, int]] = []
        if hasattr(framework, "declared_routes"):
            out.extend(framework.declared_routes(self, obj, seen))
        for entry in self.registrations.get(id(call), []):
            if entry[0] == "route":
                _, path, methods, mod, line = entry
                out.append((path, methods, mod, line))
            else:
                _, child, prefix, style = entry
                for path, methods, mod, line in self.object_routes(child, seen):
                    if style == "flask":
                        out.append((flask.blueprint_path(self, child, prefix, path), methods, mod, line))
                    elif style == "mount":
                        out.append((prefix.rstrip("/") + path, methods, mod, line))
                    else:
                        out.append(((prefix or "") + path, methods, mod, line))
        return [(own_prefix + path, methods, mod, line) for path, methods, mod, line in out]
