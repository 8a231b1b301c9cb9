"""The container's module search: sys.path in the order the container's Python builds it, and the modules
loaded from it (which context file a container path is, through the COPY instructions, is reading.py's)."""

from __future__ import annotations

import posixpath
from typing import Any, Sequence

from .source import _all_params, _cst, _Mod, _Scope


class ModuleSearch:
    """sys.path and the modules of the app, read from the build context as the container would import them."""

    MAX_MODULES = 200
    MAX_FILE_BYTES = 2_000_000

    def base_path(self, first: str, extra: Sequence[str] = ()) -> None:
        """sys.path: the first entry, then directories a flag names, then PYTHONPATH."""
        entries = [first, *extra]
        for entry in self.env.get("PYTHONPATH", "").split(":"):
            if entry.strip():
                entries.append(self.abs_path(entry.strip()))
        self.path = list(dict.fromkeys(posixpath.normpath(e) for e in entries))
        # an installed src-layout project: pip/poetry/uv put <project>/src on sys.path through the venv
        if any(self.context_file(posixpath.join(self.cwd, name)) for name in ("pyproject.toml", "setup.py", "setup.cfg")):
            self.src_fallback = posixpath.join(self.cwd, "src")

    def find_module(self, dotted: str) -> tuple[str, str, bool] | None:
        """(context path, sys.path entry, is package) of an importable module."""
        parts = dotted.split(".")
        if not all(p.isidentifier() for p in parts):
            return None
        entries = list(self.path)
        if self.src_fallback and self.src_fallback not in entries:
            entries.append(self.src_fallback)
        for entry in entries:
            base = posixpath.join(entry, *parts)
            for candidate, package in ((base + "/__init__.py", True), (base + ".py", False)):
                rel = self.context_file(candidate)
                if rel is not None:
                    if entry == self.src_fallback and entry not in self.path:
                        self.note(
                            f"{dotted} is not importable from {self.cwd}; dfix read it from {entry}/, assuming the "
                            f"project there is installed (as pip install ., poetry install or uv sync do)."
                        )
                    return rel, entry, package
        return None

    def load_module(self, dotted: str) -> _Mod | None:
        if dotted in self.by_name:
            return self.by_name[dotted]
        found = self.find_module(dotted)
        mod = self.load(found[0], dotted, found[1], found[2]) if found else None
        self.by_name[dotted] = mod
        return mod

    def load(self, rel: str, name: str, root: str, package: bool = False, script: bool = False) -> _Mod | None:
        if rel in self.mods:
            return self.mods[rel]
        self.mods[rel] = None
        if len(self.mods) > self.MAX_MODULES:
            self.note(f"The app has more than {self.MAX_MODULES} modules; dfix read only the first ones.")
            return None
        path = self.root / rel
        try:
            data = self.overlay[rel].encode("utf-8") if rel in self.overlay else path.read_bytes()
        except OSError as error:
            self.note(f"{rel} cannot be read ({error.strerror or error}).")
            return None
        if len(data) > self.MAX_FILE_BYTES:
            self.note(f"{rel} is larger than {self.MAX_FILE_BYTES} bytes; dfix did not read it.")
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.note(f"{rel} is not UTF-8 text; dfix did not read it.")
            return None
        cst = _cst()
        from libcst.metadata import PositionProvider

        try:
            tree = cst.parse_module(text)
            wrapper = cst.MetadataWrapper(tree)
            positions = wrapper.resolve(PositionProvider)
        except cst.ParserSyntaxError as error:
            self.note(f"{rel} has a Python syntax error (line {error.raw_line}): dfix did not read it.")
            return None
        except (RecursionError, ValueError, TypeError) as error:  # pragma: no cover - parser internals
            self.note(f"{rel} could not be parsed ({error}).")
            return None
        mod = _Mod(rel, name, package, text, wrapper.module, positions, root, script)
        mod.top = _Scope(mod, mod.tree, None, True if script else False)
        self.mods[rel] = mod
        return mod

    def func_scope(self, scope: _Scope, func: Any) -> _Scope:
        key = id(func)
        if key not in self.func_scopes:
            params = [p.name.value for p in _all_params(func.params)]
            self.func_scopes[key] = _Scope(scope.mod, func.body, scope, None, params)
        return self.func_scopes[key]
