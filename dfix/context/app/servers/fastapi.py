"""The fastapi CLI: fastapi run/dev and how it finds the app file."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from ..words import _has, _last, _options

if TYPE_CHECKING:
    from ..analysis import Analysis

DEFAULT_PORT = 8000

_FASTAPI_VALUE = frozenset({"--host", "--port", "--app", "--workers", "--root-path", "--entrypoint", "-e", "--forwarded-allow-ips"})


def cli(an: Analysis, args: list[str]) -> None:
    an.f.server = "fastapi-cli"
    an.f.interface = "asgi"
    if not args or args[0] not in ("run", "dev"):
        an.note("fastapi without run/dev does not start a server.")
        return
    opts, positional = _options(args[1:], _FASTAPI_VALUE)
    an.f.host = _last(opts, "--host") or ("0.0.0.0" if args[0] == "run" else "127.0.0.1")
    an.cmd_port(_last(opts, "--port"), "cmd", "--port")
    if args[0] == "dev" and not _has(opts, "--no-reload"):
        an.f.reload_switches.append("dev")
    elif _has(opts, "--reload"):
        an.f.reload_switches.append("--reload")
    an.base_path(an.cwd)
    entry = _last(opts, "--entrypoint", "-e")
    if entry:
        an.import_target(entry, factory=None, default_attr=None)
        return
    candidates = [positional[0]] if positional else ["main.py", "app.py", "api.py", "app/main.py", "app/app.py", "app/api.py"]
    for candidate in candidates:
        path = an.abs_path(candidate)
        if an.context_file(path) is None and an.context_file(posixpath.join(path, "__init__.py")):
            path = posixpath.join(path, "__init__.py")
        if an.context_file(path) is None:
            continue
        directory = posixpath.dirname(path)
        parts = [] if path.endswith("__init__.py") else [posixpath.basename(path)[:-3]]
        while an.context_file(posixpath.join(directory, "__init__.py")):
            parts.insert(0, posixpath.basename(directory))
            directory = posixpath.dirname(directory)
        an.path.insert(0, directory)
        attr = _last(opts, "--app")
        an.import_target(".".join(parts) + (f":{attr}" if attr else ""), factory=None, default_attr=None, names=("app", "api"))
        return
    an.note("fastapi run finds no app file (main.py, app.py, api.py or app/...).")
