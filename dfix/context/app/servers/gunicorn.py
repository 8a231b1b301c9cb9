"""gunicorn: its CLI, GUNICORN_CMD_ARGS and its Python config file."""

from __future__ import annotations

import posixpath
import shlex
from typing import TYPE_CHECKING, Any

from ..source import _module_for_file
from ..values import UNKNOWN
from ..words import _has, _last, _options, _port_number

if TYPE_CHECKING:
    from ..analysis import Analysis

DEFAULT_PORT = 8000

_GUNICORN_VALUE = frozenset(
    "-b --bind -c --config -k --worker-class -w --workers --threads -t --timeout --graceful-timeout "
    "--keep-alive --max-requests --max-requests-jitter --chdir --pythonpath -e --env --log-level "
    "--access-logfile --error-logfile --log-file --access-logformat --log-config --log-config-dict "
    "--log-config-json --log-syslog-to --log-syslog-prefix --log-syslog-facility -u --user -g --group -m "
    "--umask -p --pid -n --name --worker-connections --backlog --forwarded-allow-ips --worker-tmp-dir "
    "--limit-request-line --limit-request-fields --limit-request-field_size --certfile --keyfile --ca-certs "
    "--ssl-version --ciphers --cert-reqs --statsd-host --statsd-prefix --dogstatsd-tags --paste "
    "--paste-global --proxy-allow-from --reload-engine --reload-extra-file --logger-class --header-map "
    "--forwarder-headers".split()
)


def cli(an: Analysis, args: list[str]) -> None:
    an.f.server = "gunicorn"
    env_args: list[str] = []
    if an.env.get("GUNICORN_CMD_ARGS"):
        try:
            env_args = shlex.split(an.env["GUNICORN_CMD_ARGS"])
        except ValueError:
            an.note("GUNICORN_CMD_ARGS cannot be split into words.")
    env_opts, _ = _options(env_args, _GUNICORN_VALUE)
    opts, positional = _options(args, _GUNICORN_VALUE)
    chdir = _last(opts, "--chdir") or _last(env_opts, "--chdir")
    config_setting = _last(opts, "-c", "--config") or _last(env_opts, "-c", "--config")
    config = _gunicorn_config(an, config_setting)
    chdir = chdir or config.get("chdir")
    if chdir:
        an.cwd = an.abs_path(chdir)
    pythonpath = [p for v in (config.get("pythonpath"), _last(env_opts, "--pythonpath"), _last(opts, "--pythonpath")) if v for p in v.split(",")]
    an.base_path(an.cwd, [an.abs_path(p.strip()) for p in pythonpath if p.strip()])
    worker = _last(opts, "-k", "--worker-class") or _last(env_opts, "-k", "--worker-class") or config.get("worker_class") or ""
    an.f.interface = "asgi" if "uvicorn" in worker.lower() or "asgi" in worker.lower() else "wsgi"
    binds = [v for n, v in opts if n in ("-b", "--bind") and v] or [v for n, v in env_opts if n in ("-b", "--bind") and v]
    if binds:
        an.bind_address(binds, "gunicorn-bind", "-b/--bind")
    elif config.get("bind"):
        an.bind_address(config["bind"], "gunicorn-config", "bind in the gunicorn config", from_env=config.get("bind_env", False))
    elif _port_number(an.env.get("PORT")):
        # gunicorn's own default: without a bind it listens on 0.0.0.0:$PORT when PORT is set
        an.port_env = (_port_number(an.env["PORT"]), "env")
        an.f.host = "0.0.0.0"
    else:
        an.f.host = "127.0.0.1"
    if _has(opts, "--reload") or _has(env_opts, "--reload") or config.get("reload") is True:
        an.f.reload_switches.append("--reload" if _has(opts, "--reload") or _has(env_opts, "--reload") else "reload = True (gunicorn config)")
    target = positional[-1] if positional else config.get("wsgi_app")
    if _has(opts, "--paste", "--paste-global"):
        an.note("gunicorn loads the app from a PasteDeploy file, which dfix does not read.")
        return
    if not target:
        an.note("gunicorn is not given an app (MODULE:VARIABLE).")
        return
    an.import_target(target, factory=None, default_attr="application")


def _gunicorn_config(an: Analysis, setting: str | None) -> dict[str, Any]:
    """bind, worker_class, wsgi_app, chdir, pythonpath and reload from gunicorn's Python config."""
    if setting is None:
        rel = an.context_file(posixpath.join(an.cwd, "gunicorn.conf.py"))
        if rel is None:
            return {}
    elif setting.startswith("python:"):
        an.base_path(an.cwd)
        found = an.find_module(setting[len("python:"):])
        rel = found[0] if found else None
    else:
        rel = an.context_file(an.abs_path(setting))
    if rel is None:
        an.note(f"The gunicorn config {setting} is not in the build context.")
        return {}
    if setting is not None and not setting.startswith("python:") and not rel.endswith(".py"):
        an.note(f"dfix reads only Python gunicorn configs, not {rel}.")
        return {}
    mod = an.load(rel, _module_for_file(posixpath.basename(rel)), an.cwd)
    if mod is None or mod.top is None:
        return {}
    out: dict[str, Any] = {}
    for name in ("bind", "worker_class", "wsgi_app", "chdir", "pythonpath", "reload"):
        bindings = mod.top.bindings.get(name)
        if not bindings or bindings[-1].kind != "assign":
            continue
        used: list[str] = []
        value = an.evaluate(mod.top, bindings[-1].node, used)
        if value is UNKNOWN:
            an.note(f"{name} in {rel} is not a constant dfix can read.")
            continue
        if name == "bind":
            value = [value] if isinstance(value, str) else value
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                continue
            out["bind_env"] = bool(used)
        out[name] = value
    return out
