"""Where the server listens: the port by precedence (command, code, config, ENV, EXPOSE, the server's
default), its host, and the health route among the app's routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .servers import default_port
from .words import _port_number, _split_hostport

if TYPE_CHECKING:
    from .source import _Scope


class Listening:
    """The port, host and health route, from what the servers and the app's code said."""

    def cmd_port(self, text: str | None, source: str, flag: str) -> None:
        if text is None:
            return
        port = _port_number(text)
        if port is None:
            self.note(f"The command's {flag} value {text!r} is not a port number.")
            return
        self.port_cmd = (port, "env" if self.from_env(text) else source)

    def from_env(self, text: str) -> bool:
        """Whether a word of the shell command is the value of an ENV variable the shell expanded."""
        return any(self.env.get(name) == text for name in self.shell_env_used)

    def bind_address(self, binds: list[str], source: str, what: str, from_env: bool = False) -> None:
        """A server's bind addresses; ``source`` names where they were written."""
        if len(binds) > 1:
            self.note(f"The server binds {len(binds)} addresses; dfix took the first, {binds[0]}.")
        bind = binds[0]
        if bind.startswith(("unix:", "fd://")):
            self.unix_socket = True
            self.note(f"The server binds {bind}, not a TCP port.")
            return
        host, port_text = _split_hostport(bind)
        self.f.host = host
        if port_text is None:
            return  # a host alone: the server's default port
        port = _port_number(port_text)
        if port is None:
            self.note(f"{what} {bind!r} has no port number.")
            return
        if source == "gunicorn-config":
            self.port_config = (port, "env" if from_env else source)
        else:
            self.port_cmd = (port, "env" if self.from_env(port_text) else source)

    def code_port(self, scope: _Scope, call: Any, source: str, expr: Any) -> None:
        if expr is None:
            return
        used: list[str] = []
        value = self.evaluate(scope, expr, used)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
            self.port_code = (value, "env" if used else source)
        elif value is None:
            return
        else:
            self.note(f"{scope.mod.rel}:{scope.mod.line(call)}: the port passed to {source} is not a constant dfix can read.")

    def finish_port(self) -> None:
        default = default_port(self.f.server)
        for candidate in (self.port_cmd, self.port_code, self.port_config, self.port_env):
            if candidate is not None:
                self.f.port, self.f.port_source = candidate
                break
        if self.f.port is None and not self.unix_socket:
            ports = sorted(set(self.exposed))
            if len(ports) == 1:
                self.f.port, self.f.port_source = ports[0], "expose"
                if default is not None and default != ports[0]:
                    self.note(f"EXPOSE says {ports[0]} but {self.f.server} listens on {default} unless told otherwise; "
                              f"dfix found nothing telling it otherwise.")
            elif default is not None:
                self.f.port, self.f.port_source = default, "server-default"
                if len(ports) > 1:
                    self.note(f"EXPOSE lists several ports ({', '.join(map(str, ports))}).")
            elif len(ports) > 1:
                self.note(f"EXPOSE lists several ports ({', '.join(map(str, ports))}) and the server's port is unknown.")
        if self.f.port is not None and self.f.port_source not in ("expose", "server-default") and self.exposed \
                and self.f.port not in self.exposed:
            self.note(f"The server listens on {self.f.port} but EXPOSE lists {', '.join(map(str, sorted(set(self.exposed))))}.")

    def finish_health(self) -> None:
        if not self.f.routes:
            return
        from .route import HEALTH_PATHS  # loaded already by the reader that found the routes

        for wanted in HEALTH_PATHS:
            for route in self.f.routes:
                if route.path in (wanted, wanted + "/") and (set(route.methods) & {"GET", "*"}):
                    self.f.health_route = route.path
                    return
