"""The flask CLI (flask run, FLASK_APP and --app discovery) and a Flask app's app.run(...) in a script."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

from ..source import _arg, _Scope
from ..words import _TRUE_WORDS, _first_positional, _has, _last, _options, _port_number

if TYPE_CHECKING:
    from ..analysis import Analysis

DEFAULT_PORT = 5000

_FLASK_GLOBAL_VALUE = frozenset({"--app", "-A", "-e", "--env-file"})


_FLASK_RUN_VALUE = frozenset({"--host", "-h", "--port", "-p", "--cert", "--key", "--extra-files", "--exclude-patterns"})


def cli(an: Analysis, args: list[str]) -> None:
    an.f.server = "flask"
    an.f.interface = "wsgi"
    global_opts, rest = _first_positional(args, _FLASK_GLOBAL_VALUE)
    if not rest or rest[0] != "run":
        an.note(f"flask {rest[0]} does not start a server." if rest else "flask without run starts no server.")
        return
    opts, _ = _options(rest[1:], _FLASK_RUN_VALUE)
    an.base_path(an.cwd)
    an.f.host = _last(opts, "--host", "-h") or an.env.get("FLASK_RUN_HOST") or "127.0.0.1"
    an.cmd_port(_last(opts, "--port", "-p"), "cmd", "--port")
    if an.port_cmd is None and _port_number(an.env.get("FLASK_RUN_PORT")):
        an.port_env = (_port_number(an.env["FLASK_RUN_PORT"]), "env")
    for flag in ("--debug", "--reload", "--debugger"):
        if _has(global_opts + opts, flag):
            an.f.reload_switches.append(flag)
    if an.env.get("FLASK_DEBUG", "").lower() in _TRUE_WORDS and not _has(global_opts, "--no-debug"):
        an.f.reload_switches.append(f"FLASK_DEBUG={an.env['FLASK_DEBUG']}")
    target = _last(global_opts, "--app", "-A") or an.env.get("FLASK_APP")
    _flask_target(an, target)


def _flask_target(an: Analysis, target: str | None) -> None:
    """FLASK_APP / --app: "module", "module:name", "module:factory()", "path/file.py"; else discovery."""
    if target is None:
        for candidate in ("wsgi", "app"):
            if an.find_module(candidate) is not None:
                target = candidate
                break
        if target is None:
            an.note("flask run finds no app: FLASK_APP is not set and there is no wsgi.py or app.py.")
            return
    module, _, attr = target.partition(":")
    if module.endswith(".py") or "/" in module:
        path = an.abs_path(module[:-3] if module.endswith(".py") else module)
        # Flask puts the first directory above the file's packages on sys.path
        directory, name = posixpath.dirname(path), posixpath.basename(path)
        parts = [name]
        while an.context_file(posixpath.join(directory, "__init__.py")):
            parts.insert(0, posixpath.basename(directory))
            directory = posixpath.dirname(directory)
        an.path.insert(0, directory)
        module = ".".join(parts)
    factory = attr.endswith(")")
    if factory:
        attr = attr[: attr.index("(")]
    an.import_target(f"{module}:{attr}" if attr else module, factory=factory or None, default_attr=None, flask=True)


def app_run_call(an: Analysis, scope: _Scope, call: Any) -> None:
    an.f.server = "flask"
    an.f.interface = "wsgi"
    host = an.evaluate(scope, _arg(call, 0, "host"))
    an.f.host = host if isinstance(host, str) else "127.0.0.1"
    an.code_port(scope, call, "app.run", _arg(call, 1, "port"))
    an.app_from_object(scope, call.func.value, False)
