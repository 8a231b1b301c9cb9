"""Talking to a running container over the host network: the ports an image names, when its app is ready,
what each route answers, whether its healthcheck passes, and whether the container still runs after."""

from __future__ import annotations

import http.client
import re
import socket
import time
import uuid

from .engines import Engine
from .results import ImageStats

HEALTH_ROUTES = ("/health", "/healthz", "/ping", "/ready", "/status", "/")
DEFAULT_PORTS = (8000, 8080, 5000, 80)  # tried only when the image names none, and only while free
WAIT_SECONDS = 30.0  # a cold start: until the app first answers HTTP (or its healthcheck passes)
ROUTE_SECONDS = 5.0  # each route, once the app answers: a route that hangs costs this much, no more
ROUTES_BUDGET = 60.0  # all routes of one image together; the rest is left unprobed (and uncompared)


def ports_of(config: dict) -> list[int]:
    """The app's ports: EXPOSE first, then the ones its CMD/ENTRYPOINT binds."""
    ports: list[int] = []
    for key in (config.get("ExposedPorts") or {}):
        number, _, proto = str(key).partition("/")
        if number.isdigit() and proto in ("", "tcp"):
            ports.append(int(number))
    command = " ".join((config.get("Entrypoint") or []) + (config.get("Cmd") or []))
    for match in re.finditer(r"(?:--port[= ]|-p |(?:--bind|-b)[= ]\S*:|0\.0\.0\.0:|runserver \S*:)(\d{2,5})\b", command):
        ports.append(int(match.group(1)))
    return list(dict.fromkeys(p for p in ports if 0 < p < 65536))


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _answer(port: int, route: str, timeout: float) -> int | str:
    """The HTTP status of GET ``route``, else why there was none: "timeout" or "no answer"."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", route, headers={"Host": "localhost"})
        return conn.getresponse().status
    except TimeoutError:
        return "timeout"
    except (OSError, http.client.HTTPException):
        return "no answer"
    finally:
        conn.close()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_ready(engine: Engine, cid: str, ports: list[int], deadline: float) -> int | None:
    """The port the app serves on once it is ready: the first to give any HTTP answer (to a path no app
    has, which needs no database), or, at the deadline, the first that accepted a connection (an app whose
    every request waits still gets its routes probed). None when nothing listens or the container stopped.

    A TCP connect alone is not readiness: gunicorn binds before its workers have imported the app."""
    readiness = f"/dfix-verify-ready-{uuid.uuid4().hex[:8]}"
    accepting: list[int] = []
    while True:
        for port in ports:
            if _accepts(port):
                if port not in accepting:
                    accepting.append(port)
                if isinstance(_answer(port, readiness, max(0.5, min(3.0, deadline - time.monotonic()))), int):
                    return port
        if time.monotonic() >= deadline or not engine.is_running(cid):
            return accepting[0] if accepting and engine.is_running(cid) else None
        time.sleep(0.5)


def probe_routes(port: int, routes: list[str], timeout: float = ROUTE_SECONDS,
                 budget: float = ROUTES_BUDGET) -> tuple[list[str], dict[str, int], dict[str, str]]:
    """GET each route once, in order, each for at most ``timeout`` seconds: (probed, statuses, unanswered).

    One at a time, not concurrently: a single-worker server (gunicorn's default) would otherwise serve
    them in whatever order they arrive, and the two images could not be compared route by route. Routes
    left when ``budget`` runs out are not probed."""
    probed: list[str] = []
    statuses: dict[str, int] = {}
    unanswered: dict[str, str] = {}
    stop = time.monotonic() + budget
    for route in routes:
        if time.monotonic() >= stop:
            break
        probed.append(route)
        answer = _answer(port, route, timeout)
        if isinstance(answer, int):
            statuses[route] = answer
        else:
            unanswered[route] = answer
    return probed, statuses, unanswered


def probe(engine: Engine, cid: str, ports: list[int], has_healthcheck: bool, stats: ImageStats,
          wait: float = WAIT_SECONDS, routes: list[str] | None = None) -> None:
    """Wait (bounded) until the app is ready on one of ``ports``, probe ``routes`` (the health paths by
    default), wait for its healthcheck to pass, then record whether the container still runs."""
    deadline = time.monotonic() + wait
    routes = list(routes or HEALTH_ROUTES)
    if ports:
        port = wait_ready(engine, cid, ports, deadline)
        if port is not None:
            probed, statuses, unanswered = probe_routes(port, routes)
            if engine.is_running(cid):  # else whatever answered was someone else's (ours could not bind?)
                stats.port, stats.probed, stats.routes, stats.unanswered = port, probed, statuses, unanswered
                best = next((r for r in statuses if statuses[r] < 300), None) \
                    or next((r for r in statuses if statuses[r] < 400), None) \
                    or next(iter(statuses), None)
                if best is not None:
                    stats.route, stats.status = best, statuses[best]
    healthy = not has_healthcheck
    while not healthy:
        if engine.healthcheck(cid):
            healthy = True
        elif time.monotonic() >= deadline or not engine.is_running(cid):
            break
        else:
            time.sleep(0.5)
    if has_healthcheck:
        stats.healthcheck = "healthy" if healthy else "unhealthy"
    state = engine.state(cid)
    stats.running = state.get("running", False)
    stats.restarts = state.get("restarts")
    stats.exit_code = None if stats.running else state.get("exit_code")
