"""The app object a server serves: MODULE:ATTR as the servers import it, Flask's and the FastAPI CLI's
discovery when no attribute is named, and what the object tells (framework, interface, routes)."""

from __future__ import annotations

import posixpath
from typing import Any, Sequence

from .source import _cst, _Mod, _Scope
from .values import _Obj


class AppTarget:
    """From an import target or an expression to the served app object and its facts."""

    def import_target(self, target: str, factory: bool | None, default_attr: str | None,
                       flask: bool = False, names: Sequence[str] = ()) -> None:
        """MODULE[:ATTR] as the servers import it."""
        module, _, attr = target.partition(":")
        if module.endswith(".py") or "/" in module:
            # hypercorn and daphne accept a path; the module's directory goes on sys.path
            path = self.abs_path(module[:-3] if module.endswith(".py") else module)
            self.path.insert(0, posixpath.dirname(path))
            module = posixpath.basename(path)
        if attr.endswith(")"):
            attr = attr[: attr.index("(")]
            factory = True
        if not attr:
            attr = default_attr or ""
        found = self.find_module(module)
        if found is None:
            self.note(f"The app module {module} is not in the build context (searched {', '.join(self.path) or self.cwd}).")
            self.f.module, self.f.variable = module, attr or None
            return
        self.f.module, self.f.file, self.f.module_root = module, found[0], found[1]
        mod = self.load_module(module)
        if mod is None or mod.top is None:
            self.f.variable = attr or None
            return  # the loader noted why
        self.entry.append(mod)
        if not attr:
            attr = self.discover_attr(mod, flask, names)
            if not attr:
                return
        if "." in attr:
            self.note(f"The app attribute {attr} is an attribute path; dfix reads only plain names.")
            self.f.variable = attr
            return
        self.f.variable = attr
        bindings = self.lookup(mod.top, attr)
        if not bindings:
            self.note(f"{mod.rel} does not define {attr}.")
            return
        binding = bindings[-1]
        cst = _cst()
        if binding.kind == "def":
            obj = self.returned(binding.scope, binding.node, 0)
            if obj is not None:
                self.f.factory = True
                if factory is False:
                    self.note(f"{attr} in {mod.rel} returns the app, but the server is not told it is a factory (--factory).")
        else:
            obj = self.app_object(mod.top, cst.Name(attr))
        if obj is None:
            self.note(f"dfix cannot tell what kind of app {attr} in {mod.rel} is.")
            return
        self.use_obj(obj, keep_location=True)

    def discover_attr(self, mod: _Mod, flask: bool, names: Sequence[str]) -> str | None:
        """Flask's and the FastAPI CLI's rules for a module named without a variable."""
        cst = _cst()
        wanted = list(names) or (["app", "application"] if flask else [])
        for name in wanted:
            if mod.top.bindings.get(name):
                return name
        apps = [name for name, b in mod.top.bindings.items()
                if b[-1].kind == "assign" and (o := self.app_object(mod.top, cst.Name(name))) is not None and o.kind == "app"]
        if len(apps) == 1:
            return apps[0]
        if flask:
            for name in ("create_app", "make_app"):
                bindings = mod.top.bindings.get(name)
                if bindings and bindings[-1].kind == "def":
                    return name
        self.note(f"dfix cannot tell which object in {mod.rel} is the app.")
        return None

    def use_obj(self, obj: _Obj, keep_location: bool = False) -> None:
        if obj.kind != "app":
            self.note(f"The served object is a {obj.framework} {obj.kind}, not an app.")
        self.f.framework = obj.framework
        if self.f.interface is None:
            self.f.interface = obj.interface
        elif obj.interface and obj.interface != self.f.interface:
            self.note(f"The server speaks {self.f.interface.upper()} but the app is {obj.interface.upper()}.")
        mod = obj.scope.mod
        if not keep_location:
            self.f.module, self.f.file, self.f.module_root = mod.name, mod.rel, mod.root
            if obj.factory is not None:
                self.f.variable, self.f.factory = obj.factory.name.value, True
            else:
                self.f.variable = obj.name
        if obj.framework == "django":
            from .frameworks import django

            settings = django.settings_module(self, mod)
            if settings is None:
                self.note("The Django settings module is unknown (no DJANGO_SETTINGS_MODULE in ENV or code).")
                return
            django.routes_from_settings(self, settings, app_from_settings=False)
            return
        self.f.routes = self.routes_of(obj)

    def app_from_object(self, scope: _Scope, expr: Any, factory: bool) -> None:
        obj = self.app_object(scope, expr)
        if obj is None:
            self.note(f"{scope.mod.rel}: dfix cannot tell which app object {scope.mod.code(expr)} is.")
            return
        self.use_obj(obj)
