"""waitress: waitress-serve's CLI and waitress.serve(...) in a script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..source import _arg, _Scope
from ..words import _has, _last, _options, _split_hostport

if TYPE_CHECKING:
    from ..analysis import Analysis

DEFAULT_PORT = 8080

_WAITRESS_VALUE = frozenset(
    "--host --port --listen --unix-socket --unix-socket-perms --url-scheme --url-prefix --ident --threads "
    "--backlog --recv-bytes --send-bytes --outbuf-overflow --outbuf-high-watermark --inbuf-overflow "
    "--connection-limit --cleanup-interval --channel-timeout --max-request-header-size "
    "--max-request-body-size --asyncore-loop-timeout --trusted-proxy --trusted-proxy-count "
    "--trusted-proxy-headers".split()
)


def cli(an: Analysis, args: list[str]) -> None:
    an.f.server = "waitress"
    an.f.interface = "wsgi"
    opts, positional = _options(args, _WAITRESS_VALUE)
    an.base_path(an.cwd)
    listen = _last(opts, "--listen")
    if listen:
        host, port_text = _split_hostport(listen)
        an.f.host = host
        an.cmd_port(port_text, "cmd", "--listen")
    else:
        an.f.host = _last(opts, "--host") or "0.0.0.0"
        an.cmd_port(_last(opts, "--port"), "cmd", "--port")
    if not positional:
        an.note("waitress-serve is not given an app (MODULE:VARIABLE).")
        return
    an.import_target(positional[-1], factory=_has(opts, "--call"), default_attr="application")


def started(an: Analysis, scope: _Scope, call: Any) -> None:
    an.f.server = "waitress"
    an.f.interface = "wsgi"
    an.code_port(scope, call, "waitress.serve", _arg(call, None, "port"))
    host = an.evaluate(scope, _arg(call, None, "host"))
    an.f.host = host if isinstance(host, str) else "0.0.0.0"
    target = _arg(call, 0, "app")
    if target is not None:
        an.app_from_object(scope, target, False)
