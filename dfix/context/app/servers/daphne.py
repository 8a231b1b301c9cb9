"""daphne: its CLI (a port given by -p or an --endpoint)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..words import _has, _last, _options

if TYPE_CHECKING:
    from ..analysis import Analysis

DEFAULT_PORT = 8000

_DAPHNE_VALUE = frozenset(
    "-p --port -b --bind -u --unix-socket --fd -e --endpoint -v --verbosity -t --http-timeout --access-log "
    "--log-fmt --ping-interval --ping-timeout --application-close-timeout --root-path --proxy-headers-host "
    "--proxy-headers-port --websocket_timeout --websocket_connect_timeout --server-name".split()
)


def cli(an: Analysis, args: list[str]) -> None:
    an.f.server = "daphne"
    an.f.interface = "asgi"
    opts, positional = _options(args, _DAPHNE_VALUE)
    an.base_path(an.cwd)
    an.f.host = _last(opts, "-b", "--bind") or "127.0.0.1"
    an.cmd_port(_last(opts, "-p", "--port"), "cmd", "-p/--port")
    for name, value in opts:
        if name in ("-e", "--endpoint") and value:
            match = re.search(r"(?:^|:)port=(\d+)", value)
            if match and an.port_cmd is None:
                an.cmd_port(match.group(1), "cmd", "--endpoint")
    if _has(opts, "-u", "--unix-socket", "--fd"):
        an.unix_socket = True
        an.note("daphne listens on a socket, not on a TCP port.")
    if not positional:
        an.note("daphne is not given an app (MODULE:VARIABLE).")
        return
    an.import_target(positional[-1], factory=None, default_attr=None)
