"""granian: its CLI (options and GRANIAN_* ENV). Its default interface is RSGI, which ASGI and WSGI apps do
not speak; --interface asgi/asginl/wsgi says otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..words import _TRUE_WORDS, _has, _last, _options, _port_number

if TYPE_CHECKING:
    from ..analysis import Analysis

DEFAULT_PORT = 8000

_GRANIAN_VALUE = frozenset(
    "--host --port --interface --http --workers --threads --blocking-threads --runtime-threads "
    "--runtime-blocking-threads --runtime-mode --threading-mode --loop --task-impl --backlog --backpressure "
    "--http1-buffer-size --http1-header-read-timeout --http1-max-buffer-size "
    "--http2-initial-connection-window-size --http2-initial-stream-window-size --http2-keep-alive-interval "
    "--http2-keep-alive-timeout --http2-max-concurrent-streams --http2-max-frame-size --http2-max-headers-size "
    "--http2-max-send-buffer-size --log-level --log-config --access-log-fmt --ssl-certificate --ssl-keyfile "
    "--ssl-keyfile-password --ssl-protocol-min --ssl-ca --ssl-crl --url-path-prefix --respawn-interval "
    "--rss-sample-interval --rss-samples --workers-lifetime --workers-kill-timeout --workers-graceful-timeout "
    "--workers-max-rss --reload-paths --reload-ignore-dirs --reload-ignore-patterns --reload-ignore-paths "
    "--reload-filter --reload-tick --process-name --pid-file --working-dir --env-files --static-path-route "
    "--static-path-mount --static-path-expires --uds --uds-permissions --metrics-address --metrics-port "
    "--metrics-scrape-interval".split()
)
_INTERFACES = {"asgi": "asgi", "asginl": "asgi", "wsgi": "wsgi", "rsgi": "rsgi"}


def cli(an: Analysis, args: list[str]) -> None:
    an.f.server = "granian"
    opts, positional = _options(args, _GRANIAN_VALUE)
    interface = (_last(opts, "--interface") or an.env.get("GRANIAN_INTERFACE") or "rsgi").lower()
    an.f.interface = _INTERFACES.get(interface)
    if an.f.interface is None:
        an.note(f"granian's --interface {interface} is not one dfix knows.")
    working_dir = _last(opts, "--working-dir") or an.env.get("GRANIAN_WORKING_DIR")
    an.base_path(an.abs_path(working_dir) if working_dir else an.cwd)
    an.f.host = _last(opts, "--host") or an.env.get("GRANIAN_HOST") or "127.0.0.1"
    an.cmd_port(_last(opts, "--port"), "cmd", "--port")
    if an.port_cmd is None and _port_number(an.env.get("GRANIAN_PORT")):
        an.port_env = (_port_number(an.env["GRANIAN_PORT"]), "env")
    if _has(opts, "--uds") or an.env.get("GRANIAN_UDS"):
        an.unix_socket = True
        an.note("granian listens on a Unix socket (--uds), not on a TCP port.")
    reload = [name for name, _ in opts if name in ("--reload", "--no-reload")]
    if reload[-1:] == ["--reload"]:
        an.f.reload_switches.append("--reload")
    elif not reload and an.env.get("GRANIAN_RELOAD", "").lower() in _TRUE_WORDS:
        an.f.reload_switches.append(f"GRANIAN_RELOAD={an.env['GRANIAN_RELOAD']}")
    factory = [name for name, _ in opts if name in ("--factory", "--no-factory")]
    is_factory = factory[-1:] == ["--factory"] or (not factory and an.env.get("GRANIAN_FACTORY", "").lower() in _TRUE_WORDS)
    if not positional:
        an.note("granian is not given an app (MODULE:VARIABLE).")
        return
    an.import_target(positional[-1], factory=is_factory, default_attr=None)
