"""hypercorn: its CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..words import _has, _last, _options

if TYPE_CHECKING:
    from ..analysis import Analysis

DEFAULT_PORT = 8000

_HYPERCORN_VALUE = frozenset(
    "-b --bind --insecure-bind --quic-bind -c --config -k --worker-class -w --workers --root-path "
    "--access-logfile --error-logfile --log-file --log-config --log-level --certfile --keyfile --ca-certs "
    "--ciphers -u --user -g --group -m --umask -p --pid --backlog --graceful-timeout --keep-alive "
    "--max-requests --max-requests-jitter --server-name --read-timeout --keyfile-password --statsd-host "
    "--statsd-prefix --websocket-ping-interval --access-logformat --access-log-format".split()
)


def cli(an: Analysis, args: list[str]) -> None:
    an.f.server = "hypercorn"
    opts, positional = _options(args, _HYPERCORN_VALUE)
    an.base_path(an.cwd)
    binds = [v for n, v in opts if n in ("-b", "--bind", "--insecure-bind") and v]
    if binds:
        an.bind_address(binds, "cmd", "--bind")
    else:
        an.f.host = "127.0.0.1"
    if _last(opts, "-c", "--config"):
        an.note("dfix does not read hypercorn config files.")
    if _has(opts, "--reload"):
        an.f.reload_switches.append("--reload")
    worker = _last(opts, "-k", "--worker-class") or ""
    if not positional:
        an.note("hypercorn is not given an app (MODULE:VARIABLE).")
        return
    an.import_target(positional[-1], factory=None, default_attr="app")
    if an.f.interface is None:
        an.f.interface = "asgi" if worker != "sync" else "wsgi"
