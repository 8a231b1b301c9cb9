"""python itself: -m MODULE (a server's own __main__ or the app's), a script, and which server a script's code starts."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any, Iterator

from ..source import _arg, _calls_in, _cst, _Mod, _Scope, _statements
from ..values import _Local
from . import BY_PYTHON_MODULE, STARTED_BY, server

if TYPE_CHECKING:
    from ..analysis import Analysis

def cli(an: Analysis, args: list[str]) -> None:
    module = code = script = None
    rest: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word == "-" or not word.startswith("-"):
            script, rest = word, args[i + 1:]
            break
        if word.startswith("--"):
            i += 2 if word == "--check-hash-based-pycs" else 1
            continue
        cluster = word[1:]  # -u, -OO, -Bu, -um app, -Xdev, -W ignore
        for j, ch in enumerate(cluster):
            if ch in "mcXW":
                value = cluster[j + 1:]
                if not value:
                    i += 1
                    value = args[i] if i < len(args) else ""
                if ch == "m":
                    module, rest = value, args[i + 1:]
                elif ch == "c":
                    code = value
                break
        if module is not None or code is not None:
            break
        i += 1
    if code is not None:
        an.note("The command runs python -c code, which dfix does not analyse.")
        an.f.server = "python"
        return
    if module is not None:
        program = BY_PYTHON_MODULE.get(module)
        if program is not None:
            an.start_program(server(program), rest)
            return
        _python_module(an, module, rest)
        return
    if script is None:
        an.note("The command starts an interactive python.")
        an.f.server = "python"
        return
    _python_script(an, script, rest)


def _python_module(an: Analysis, dotted: str, rest: list[str]) -> None:
    an.base_path(an.cwd)
    found = an.find_module(dotted)
    if found is None:
        an.note(f"python -m {dotted}: dfix cannot find that module in the build context.")
        an.f.server = "python"
        return
    rel, root, package = found
    if package:
        main_rel = an.context_file(posixpath.join(root, *dotted.split("."), "__main__.py"))
        if main_rel is None:
            an.note(f"python -m {dotted}: the package has no __main__.py in the build context.")
            an.f.server = "python"
            return
        rel = main_rel
        name = f"{dotted}.__main__"
    else:
        name = dotted
    mod = an.load(rel, name, root, package=False, script=True)
    an.f.script = rel
    if mod is None:
        an.f.server = "python"
        return
    an.entry.append(mod)
    if rest and rest[0] == "runserver" and _calls_django(an, mod):
        server("django-runserver").runserver(an, rest[1:], mod)
        return
    _script_servers(an, mod)


def _python_script(an: Analysis, script: str, rest: list[str]) -> None:
    path = an.abs_path(script)
    rel = an.context_file(path)
    an.base_path(posixpath.dirname(path))
    if rel is None:
        an.note(f"python {script}: dfix cannot find that file in the build context.")
        an.f.server = "python"
        return
    stem = posixpath.basename(path)[:-3] if path.endswith(".py") else posixpath.basename(path)
    mod = an.load(rel, stem, posixpath.dirname(path), script=True)
    an.f.script = rel
    if mod is None:
        an.f.server = "python"
        return
    an.entry.append(mod)
    if rest and rest[0] == "runserver":
        if _calls_django(an, mod):
            server("django-runserver").runserver(an, rest[1:], mod)
            return
    _script_servers(an, mod)


def _calls_django(an: Analysis, mod: _Mod) -> bool:
    """Whether the script hands its arguments to Django's management commands (manage.py does)."""
    return any((an.qual(scope, call.func) or "").startswith("django.core.management.")
               for scope, call in _reachable_calls(an, mod))


def _script_servers(an: Analysis, mod: _Mod) -> None:
    """What a script starts: the first uvicorn.run / Flask app.run / waitress.serve its code reaches."""
    served: list[tuple[str, _Scope, Any]] = []
    for scope, call in _reachable_calls(an, mod):
        qual = an.qual(scope, call.func)
        cst = _cst()
        if qual in STARTED_BY:
            served.append((STARTED_BY[qual], scope, call))
        elif isinstance(call.func, cst.Attribute) and call.func.attr.value == "run":
            obj = an.app_object(scope, call.func.value)
            if obj is not None and obj.kind == "app" and obj.framework == "flask":
                served.append(("app.run", scope, call))
            elif obj is None and (_arg(call, None, "debug") is not None or _arg(call, None, "use_reloader") is not None):
                an.note(f"{scope.mod.rel}:{scope.mod.line(call)} calls {scope.mod.code(call.func)} on an object dfix "
                          f"cannot identify as a Flask app.")
    from .. import reload  # the reload rewrite matters only once a script is read

    reload.report_reload_calls(an, served)
    if not served:
        an.f.server = "python"
        an.note(f"{mod.rel} starts no server dfix recognises (uvicorn.run, Flask app.run, waitress.serve).")
        return
    kinds = {(k, id(c)) for k, _, c in served}
    if len(kinds) > 1:
        an.note(f"{mod.rel} can start the server in {len(kinds)} places; dfix read the first.")
    kind, scope, call = served[0]
    if kind == "app.run":
        server("flask").app_run_call(an, scope, call)
    else:
        server(kind).started(an, scope, call)


def _reachable_calls(an: Analysis, mod: _Mod) -> list[tuple[_Scope, Any]]:
    """Calls the script runs: its module code (the `__main__` side of `if __name__` tests) and, through
    calls, the bodies of the functions it reaches in its own and imported modules."""
    cst = _cst()
    out: list[tuple[_Scope, Any]] = []
    seen: set[int] = set()

    def run(scope: _Scope, statements: Iterator[Any]) -> None:
        for stmt in statements:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) or not hasattr(stmt, "children"):
                continue
            if isinstance(stmt, (cst.If, cst.Try, cst.With, cst.For, cst.While, cst.Match)):
                continue  # their blocks come through _statements; headers start no server
            for call in _calls_in(stmt):
                out.append((scope, call))
                callee = an.resolve(scope, call.func)
                if isinstance(callee, _Local) and callee.bindings[-1].kind == "def":
                    binding = callee.bindings[-1]
                    func = binding.node
                    if id(func) in seen or len(seen) > 200:
                        continue
                    seen.add(id(func))
                    run(an.func_scope(binding.scope, func), _statements(func.body, None))

    run(mod.top, _statements(mod.tree, True))
    return out
