"""uvicorn: its CLI (options and UVICORN_* ENV) and uvicorn.run(...) in a script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..source import _arg, _Scope
from ..words import _TRUE_WORDS, _has, _last, _options, _port_number

if TYPE_CHECKING:
    from ..analysis import Analysis

DEFAULT_PORT = 8000

_UVICORN_VALUE = frozenset(
    "--host --port --uds --fd --reload-dir --reload-include --reload-exclude --reload-delay --workers --loop "
    "--http --ws --ws-max-size --ws-max-queue --ws-ping-interval --ws-ping-timeout --ws-per-message-deflate "
    "--lifespan --interface --env-file --log-config --log-level --root-path --limit-concurrency --backlog "
    "--limit-max-requests --limit-max-requests-jitter --timeout-keep-alive --timeout-graceful-shutdown "
    "--timeout-worker-healthcheck --ssl-keyfile --ssl-certfile --ssl-keyfile-password --ssl-version "
    "--ssl-cert-reqs --ssl-ca-certs --ssl-ciphers --header --app-dir --h11-max-incomplete-event-size "
    "--forwarded-allow-ips".split()
)


def cli(an: Analysis, args: list[str]) -> None:
    an.f.server = "uvicorn"
    opts, positional = _options(args, _UVICORN_VALUE)
    interface = _last(opts, "--interface")
    an.f.interface = "wsgi" if interface == "wsgi" else "asgi"
    app_dir = _last(opts, "--app-dir") or an.env.get("UVICORN_APP_DIR")
    an.base_path(an.cwd, [an.abs_path(app_dir)] if app_dir else [])
    an.f.host = _last(opts, "--host") or an.env.get("UVICORN_HOST") or "127.0.0.1"
    an.cmd_port(_last(opts, "--port"), "cmd", "--port")
    if an.port_cmd is None and _port_number(an.env.get("UVICORN_PORT")):
        an.port_env = (_port_number(an.env["UVICORN_PORT"]), "env")
    if _has(opts, "--uds", "--fd"):
        an.unix_socket = True
        an.note("uvicorn listens on a socket given by --uds/--fd, not on a TCP port.")
    if _has(opts, "--reload"):
        an.f.reload_switches.append("--reload")
    if an.env.get("UVICORN_RELOAD", "").lower() in _TRUE_WORDS:
        an.f.reload_switches.append(f"UVICORN_RELOAD={an.env['UVICORN_RELOAD']}")
    factory = _has(opts, "--factory") or an.env.get("UVICORN_FACTORY", "").lower() in _TRUE_WORDS
    target = positional[0] if positional else an.env.get("UVICORN_APP")
    if target is None:
        an.note("uvicorn is not given an app (MODULE:VARIABLE).")
        return
    an.import_target(target, factory=factory, default_attr=None)


def started(an: Analysis, scope: _Scope, call: Any) -> None:
    mod = scope.mod
    an.f.server = "uvicorn"
    interface = an.evaluate(scope, _arg(call, None, "interface"))
    an.f.interface = "wsgi" if interface == "wsgi" else "asgi"
    host = an.evaluate(scope, _arg(call, None, "host"))
    an.f.host = host if isinstance(host, str) else ("127.0.0.1" if _arg(call, None, "host") is None else None)
    an.code_port(scope, call, "uvicorn.run", _arg(call, None, "port"))
    if _arg(call, None, "uds") is not None or _arg(call, None, "fd") is not None:
        an.unix_socket = True
        an.note("uvicorn.run listens on a socket (uds/fd), not on a TCP port.")
    app_dir = an.evaluate(scope, _arg(call, None, "app_dir"))
    factory = an.evaluate(scope, _arg(call, None, "factory")) is True
    target = _arg(call, 0, "app", "config_or_app")
    if isinstance(app_dir, str):
        an.path.insert(0, an.abs_path(app_dir))
    if target is None:
        an.note(f"{mod.rel}:{mod.line(call)}: uvicorn.run is not given an app dfix can read.")
        return
    value = an.evaluate(scope, target)
    if isinstance(value, str):
        an.import_target(value, factory=factory, default_attr=None)
        return
    an.app_from_object(scope, target, factory)
