"""Bringing a Compose project up and down for real, and watching it: when each service's container
started, and when it was first running, ready and healthy.

Engines. Docker (`docker compose` against a running daemon) schedules healthchecks itself. Podman 4.3
(Debian 12) does not without systemd: it hands each healthcheck to a systemd timer, and with no systemd
a container's health stays "starting" for ever. podman-compose cannot stand in for compose there either:
1.0.3 (Debian's) ignores `condition:` altogether, and 1.6 (PyPI) waits through `podman wait
--condition=healthy`, which needs podman 4.6, and skips the wait (with a warning) on older ones. So with
podman, the compose tool is docker-compose 1.29 (Debian's `docker-compose`, which honours
`condition: service_healthy`) talking to podman's Docker-compatible API (`podman system service`), and
the Watcher plays systemd's part: it runs `podman healthcheck run` for each container on its own
healthcheck's interval, as podman's timer would, and podman records the result.

`Stack` is a context manager: a unique project name, and `down` (containers, network, volumes and the
images the project built) on the way out whatever happened. Nothing here is specific to a test:
`dfix verify` can bring a stack up the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

from ..lazy_regex import lazy_compile
from ..records import field, record


class StackError(Exception):
    pass


@record
class Engine:
    """How to run compose and reach the containers: `cli` is the engine's own command (inspect, exec,
    healthcheck), `compose` the compose command, `env` what both need, `ticks` whether this module must
    run the healthchecks itself (podman without systemd)."""

    name: str
    cli: str
    compose: list[str]
    env: dict[str, str]
    ticks: bool
    _service: subprocess.Popen | None = None
    _folder: str | None = None

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([self.cli, *args], env=self.env, capture_output=True, text=True, timeout=timeout)

    def close(self) -> None:
        if self._service is not None and self._service.poll() is None:
            self._service.terminate()
            try:
                self._service.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._service.kill()
                self._service.wait()
        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def why_no_engine() -> str | None:
    """None when `open_engine` can work here; otherwise what is missing, for a skip message."""
    if _docker_daemon() is not None:
        return None
    if shutil.which("podman") is None:
        return "no container engine: neither a Docker daemon nor podman (scripts/setup-engine.sh installs podman)"
    if shutil.which("docker-compose") is None:
        return ("podman is here but docker-compose is not (scripts/setup-engine.sh installs Debian's "
                "docker-compose; podman-compose cannot wait for healthy services on podman < 4.6)")
    return None


def open_engine(env: dict[str, str] | None = None, name: str | None = None) -> Engine:
    """A Docker daemon when one answers (or `name` is "docker"); else podman with its Docker-compatible
    API on a socket of its own (stopped by Engine.close) and docker-compose pointed at it."""
    env = dict(os.environ if env is None else env)
    docker = _docker_daemon(env) if name != "podman" else None
    if docker is not None:
        return Engine("docker", docker, [docker, "compose"], env, ticks=False)
    if name == "docker":
        raise StackError("docker: no Docker daemon with `docker compose` answers here")
    podman, compose = shutil.which("podman"), shutil.which("docker-compose")
    if podman is None or compose is None:
        raise StackError(why_no_engine() or "no engine")
    folder = tempfile.mkdtemp(prefix="dfix-stack-")
    socket = os.path.join(folder, "podman.sock")
    log = open(os.path.join(folder, "service.log"), "wb")
    service = subprocess.Popen([podman, "system", "service", "--time=0", f"unix://{socket}"], env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    engine = Engine("podman", podman, [compose], {**env, "DOCKER_HOST": f"unix://{socket}"}, ticks=True,
                    _service=service, _folder=folder)
    deadline = time.monotonic() + 20
    while not os.path.exists(socket):
        if service.poll() is not None or time.monotonic() > deadline:
            text = Path(folder, "service.log").read_text(errors="replace")[-500:]
            engine.close()
            raise StackError(f"podman system service did not start: {text}")
        time.sleep(0.1)
    return engine


def _docker_daemon(env: dict[str, str] | None = None) -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    try:
        ok = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], env=env, capture_output=True,
                            text=True, timeout=10).returncode == 0
        ok = ok and subprocess.run([docker, "compose", "version"], env=env, capture_output=True,
                                   timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return None
    return docker if ok else None


@record
class Service:
    """What was seen of one service's container; times are seconds since the epoch."""

    name: str
    container: str
    created: float | None = None
    started: float | None = None  # the engine's State.StartedAt of the (last) start
    first_started: float | None = None  # of the first start seen: a restart policy starts a crashed app again
    restarts: int = 0
    ready: float | None = None  # first time the caller's readiness probe passed in it
    healthy: float | None = None  # first time its healthcheck was seen passing
    has_healthcheck: bool = False
    state: str = ""  # running, exited, ...
    health: str = ""  # starting, healthy, unhealthy, or "" without a healthcheck
    exit_code: int | None = None
    history: list[tuple[float, str, str]] = field(default_factory=list)  # (when, state, health) on change


class Stack:
    """One compose project. `up()` returns when compose does (with `wait`, once the services have
    started, including those compose holds back until their dependencies are healthy), while a watcher
    thread records every service's container, start time, state and health, and runs the `probes`
    ({service: argv run inside its container, exit 0 = ready}) to time readiness even where the file
    declares no healthcheck."""

    def __init__(self, engine: Engine, compose_file: str | Path, project: str | None = None,
                 probes: dict[str, list[str]] | None = None, poll: float = 0.25,
                 project_directory: str | Path | None = None):
        self.engine = engine
        self.file = Path(compose_file).resolve()
        # where relative paths (build contexts, bind mounts, .env) resolve: the file's folder by default; a
        # rewrite staged elsewhere names the user's folder so that it builds and mounts what the original does
        self.directory = Path(project_directory).resolve() if project_directory is not None else self.file.parent
        self.project = project or f"dfix{uuid.uuid4().hex[:10]}"
        self.probes = dict(probes or {})
        self.poll = poll
        self.services: dict[str, Service] = {}
        self.up_started: float | None = None
        self.up_returned: float | None = None
        self.up_output = ""
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._next_check: dict[str, float] = {}
        self._lock = threading.Lock()

    # compose ---------------------------------------------------------------------------------------
    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        where = ["--project-directory", str(self.directory)] if self.directory != self.file.parent else []
        return subprocess.run([*self.engine.compose, "-p", self.project, "-f", str(self.file), *where, *args],
                              cwd=self.directory, env=self.engine.env, capture_output=True, text=True,
                              timeout=timeout)

    def up(self, timeout: float = 300) -> subprocess.CompletedProcess:
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self.up_started = time.time()
        self._watcher.start()
        proc = self.compose("up", "-d", "--no-color", timeout=timeout)
        self.up_returned = time.time()
        self.up_output = proc.stdout + proc.stderr
        self._observe()  # what compose has just started, before the caller looks
        return proc

    def down(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=30)
        self.compose("down", "--volumes", "--remove-orphans", "--rmi", "local", "-t", "3", timeout=120)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def logs(self, service: str) -> str:
        proc = self.compose("logs", "--no-color", service, timeout=60)
        return proc.stdout + proc.stderr

    def wait_for(self, condition, timeout: float) -> bool:
        """Polls `condition(self)` until it holds or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if condition(self):
                    return True
            time.sleep(self.poll)
        with self._lock:
            return bool(condition(self))

    def healthcheck(self, service: str) -> bool:
        """Runs the service's healthcheck once now (as `podman healthcheck run` does); True when it passed."""
        container = self.services[service].container
        if self.engine.ticks:
            passed = self.engine.run("healthcheck", "run", container, timeout=60).returncode == 0
        else:
            passed = self._inspect(container).get("State", {}).get("Health", {}).get("Status") == "healthy"
        self._observe()
        return passed

    def exec(self, service: str, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return self.engine.run("exec", self.services[service].container, *argv, timeout=timeout)

    def address(self, service: str) -> str:
        """The container's address on the project's network (reachable from the host on a bridge)."""
        networks = self._inspect(self.services[service].container).get("NetworkSettings", {}).get("Networks") or {}
        for network in networks.values():
            if network.get("IPAddress"):
                return network["IPAddress"]
        raise StackError(f"{service} has no address")

    # watching --------------------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self._observe()
                self._tick()
            except (subprocess.TimeoutExpired, OSError, ValueError):
                pass  # a container that went away mid-look: the next round sees the new state
            self._stop.wait(self.poll)

    def _containers(self) -> dict[str, str]:
        proc = self.engine.run("ps", "-a", "--filter", f"label=com.docker.compose.project={self.project}",
                               "--format", "{{.ID}}", timeout=30)
        ids = proc.stdout.split()
        if not ids:
            return {}
        found = {}
        for item in self._inspect_all(ids):
            labels = (item.get("Config") or {}).get("Labels") or {}
            service = labels.get("com.docker.compose.service")
            if service:
                found[service] = item
        return found

    def _observe(self) -> None:
        now = time.time()
        for name, item in self._containers().items():
            state = item.get("State") or {}
            health = state.get("Health") or state.get("Healthcheck") or {}
            with self._lock:
                seen = self.services.get(name)
                if seen is None or seen.container != item["Id"]:
                    seen = self.services[name] = Service(name, item["Id"])
                seen.created = _when(item.get("Created"))
                seen.started = _when(state.get("StartedAt"))
                if seen.first_started is None or (seen.started is not None and seen.started < seen.first_started):
                    seen.first_started = seen.started
                seen.restarts = item.get("RestartCount") or 0
                seen.has_healthcheck = bool((item.get("Config") or {}).get("Healthcheck", {}) or {}) and \
                    (item["Config"]["Healthcheck"].get("Test") or ["NONE"])[0] != "NONE"
                seen.state = state.get("Status", "")
                seen.health = health.get("Status", "") if seen.has_healthcheck else ""
                seen.exit_code = state.get("ExitCode") if seen.state in ("exited", "stopped") else None
                if seen.health == "healthy" and seen.healthy is None:
                    seen.healthy = _first_pass(health) or now
                if not seen.history or seen.history[-1][1:] != (seen.state, seen.health):
                    seen.history.append((now, seen.state, seen.health))

    def _tick(self) -> None:
        with self._lock:
            running = [s for s in self.services.values() if s.state == "running"]
        for service in running:
            argv = self.probes.get(service.name)
            if argv and service.ready is None:
                if self.engine.run("exec", service.container, *argv, timeout=30).returncode == 0:
                    with self._lock:
                        service.ready = time.time()
            if self.engine.ticks and service.has_healthcheck:
                self._scheduled_healthcheck(service)

    def _scheduled_healthcheck(self, service: Service) -> None:
        """What podman's systemd timer does: `podman healthcheck run` every interval from the start."""
        now = time.monotonic()
        due = self._next_check.get(service.container)
        if due is None:
            interval = self._interval(service.container)
            self._next_check[service.container] = now + interval
            return
        if now < due:
            return
        self.engine.run("healthcheck", "run", service.container, timeout=60)
        self._next_check[service.container] = time.monotonic() + self._interval(service.container)
        self._observe()

    def _interval(self, container: str) -> float:
        check = (self._inspect(container).get("Config") or {}).get("Healthcheck") or {}
        nanos = check.get("Interval") or 0
        return nanos / 1e9 if nanos else 30.0  # Docker's and podman's default

    def _inspect(self, container: str) -> dict:
        found = self._inspect_all([container])
        return found[0] if found else {}

    def _inspect_all(self, ids: list[str]) -> list[dict]:
        proc = self.engine.run("inspect", "--type", "container", *ids, timeout=30)
        try:
            return json.loads(proc.stdout or "[]")
        except ValueError:
            return []


_FRACTION = lazy_compile(r"(\.\d{1,6})\d*")


def _when(stamp) -> float | None:
    """Seconds since the epoch of an engine's RFC 3339 time (nanoseconds cut to micro); None when unset."""
    if not isinstance(stamp, str) or not stamp or stamp.startswith("0001-"):
        return None
    text = _FRACTION.sub(r"\1", stamp.strip()).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _first_pass(health: dict) -> float | None:
    for entry in health.get("Log") or []:
        if entry.get("ExitCode") == 0:
            return _when(entry.get("End")) or _when(entry.get("Start"))
    return None
