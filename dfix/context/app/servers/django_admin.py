"""Django's development server: django-admin runserver and manage.py runserver."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..source import _Mod
from ..words import _has, _last, _options, _split_hostport

if TYPE_CHECKING:
    from ..analysis import Analysis

DEFAULT_PORT = 8000

_RUNSERVER_VALUE = frozenset({"--settings", "--pythonpath", "-v", "--verbosity"})


def cli(an: Analysis, args: list[str]) -> None:
    if not args or args[0] != "runserver":
        an.note(f"django-admin {args[0]} does not start a server." if args else "django-admin without runserver starts no server.")
        return
    an.base_path(an.cwd)
    runserver(an, args[1:], None)


def runserver(an: Analysis, args: list[str], script: _Mod | None) -> None:
    an.f.server = "django-runserver"
    an.f.framework = "django"
    an.f.interface = "wsgi"
    opts, positional = _options(args, _RUNSERVER_VALUE)
    if not _has(opts, "--noreload"):
        an.f.reload_switches.append("runserver")
    an.f.host = "127.0.0.1"
    if positional:
        host, port_text = _split_hostport(positional[0])
        if port_text is not None:
            an.f.host = host or an.f.host
            an.cmd_port(port_text, "cmd", "runserver address")
    extra = _last(opts, "--pythonpath")
    if extra:
        an.path.append(an.abs_path(extra))
    from ..frameworks import django  # the framework tables load only for an app that is read

    settings = _last(opts, "--settings") or django.settings_module(an, script)
    if settings is None:
        return
    django.routes_from_settings(an, settings, app_from_settings=True)
