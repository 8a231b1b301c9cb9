"""Proof by building: build the original and the rewritten image, run both, compare them.

The rewrite is computed exactly as `dfix --dry-run` would and written to a temporary file outside the
build context, so the user's files are only ever read. Everything this module starts is removed:
containers by id with a short stop timeout (shell-form CMDs do not forward SIGTERM), images by their
run-unique tag (see Engine.remove_image).

Original and rewrite run one after the other with host networking: both bind the same port, and a
container network cannot be relied on where there is no systemd and no bridge.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import ConfigError, options_for
from .context import BuildContext
from .engine import Options, fix_text, read_source
from .files import InputError, read_bytes
from .syntax import DockerfileSyntaxError

ENGINES = ("podman", "buildah", "docker")
HEALTH_ROUTES = ("/health", "/healthz", "/ping", "/ready", "/status", "/")
DEFAULT_PORTS = (8000, 8080, 5000, 80)  # tried only when the image names none, and only while free
WAIT_SECONDS = 30.0  # a cold start: until the app first answers HTTP (or its healthcheck passes)
ROUTE_SECONDS = 5.0  # each route, once the app answers: a route that hangs costs this much, no more
ROUTES_BUDGET = 60.0  # all routes of one image together; the rest is left unprobed (and uncompared)
MAX_APP_ROUTES = 25  # routes found in the app's code, beyond the health paths
IMPORT_SECONDS = 30.0  # an app module that serves when imported (no __main__ guard) times out in both images
LOCK_WAIT = 600.0  # one run holds a port for its probe: at most ~1 min per image
PORT_WAIT = 10.0  # for a port that another run (original, then rewrite) is still letting go
BUILD_TIMEOUT = 1800
BUILD_RETRIES = 2  # for the engine's own race with a parallel image removal, never for a failing step
MANIFESTS = re.compile(
    r"(requirements.*\.(txt|in)|pyproject\.toml|poetry\.lock|uv\.lock|Pipfile(\.lock)?|setup\.(py|cfg)"
    r"|package(-lock)?\.json|.*Dockerfile.*|.*Containerfile.*|\.dockerignore|\.gitignore)"
)


class VerifyError(Exception):
    """Verification could not run at all (no engine, bad Dockerfile, busy port); one line."""


class OriginalBuildError(VerifyError):
    """The original does not build (a RUN fails, the base image is not available): there is nothing to
    compare the rewrite with, so this is an error of the input, not a verdict on the rewrite."""

    def __init__(self, dockerfile: Path, log: str) -> None:
        self.log = log  # the end of the engine's output
        self.headline = _headline(log)
        super().__init__(f"{dockerfile}: the original does not build: {self.headline}")


def _headline(log: str) -> str:
    """The engine's own error line of a build log (podman `Error: ...`, docker `ERROR: ...`), else its last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        match = re.match(r"(?:error|ERROR|Error):\s*(.*)", line)
        if match and match.group(1):
            return match.group(1)
    return lines[-1] if lines else "the engine printed nothing"


@dataclass
class ImageStats:
    builds: bool = False
    build_seconds: float | None = None
    build_error: str | None = None  # last lines of the engine's output when the build failed
    image: str | None = None  # our tag
    image_id: str | None = None
    size_mb: float | None = None
    layers: int | None = None
    user: str | None = None  # .Config.User as written
    uid: int | None = None  # `id -u` inside the running container
    ran: bool = False
    running: bool | None = None  # still up after the probe (an app that crashed is not)
    port: int | None = None
    route: str | None = None
    status: int | None = None  # HTTP status of the best health route; None: never answered
    routes: dict[str, int] = field(default_factory=dict)  # each probed route that answered: its HTTP status
    probed: list[str] = field(default_factory=list)  # the routes probed, in order (health paths, then the app's)
    unanswered: dict[str, str] = field(default_factory=dict)  # probed, no HTTP answer: "timeout" or "no answer"
    exit_code: int | None = None  # after the probes, when the container had stopped
    restarts: int | None = None  # the engine's restart count after the probes
    module: str | None = None  # the app module the import check imported
    imports: bool | None = None  # it imports as the image's user in its WORKDIR; None: not checked
    import_error: str | None = None  # the last line Python printed when it did not
    healthcheck: str | None = None  # None: the image defines none; "healthy" / "unhealthy"
    rebuild_seconds: float | None = None  # after one app file changed
    rebuild_file: str | None = None
    rebuild_steps: list = field(default_factory=list)  # [instruction, reused from the layer cache] of that rebuild
    compilers: list[str] | None = None  # gcc, cc, g++, make found inside; None: not checked
    run_log: str | None = None  # the end of the container's output (what a crash says)


@dataclass
class VerifyReport:
    context: str
    dockerfile: str
    engine: str
    changed: bool
    applied: list[str]
    original: ImageStats
    rewrite: ImageStats
    side_files: list[str] = field(default_factory=list)  # context files the rewrite also changes
    ok: bool = False
    reasons: list[str] = field(default_factory=list)  # why the rewrite is worse, or what was not checked
    kept: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def answer_rank(stats: ImageStats) -> int:
    """2: a success or redirect, 1: an HTTP answer of any kind, 0: none."""
    if stats.status is None:
        return 0
    return 2 if stats.status < 400 else 1


# ---------------------------------------------------------------------------------------------- engine


@dataclass
class Engine:
    name: str
    path: str
    env: dict[str, str] | None = None  # None: this process's environment

    @classmethod
    def find(cls, name: str | None = None, env: dict[str, str] | None = None) -> Engine:
        search = os.pathsep.join(filter(None, [(env or os.environ).get("PATH"), os.defpath]))
        if name is not None:
            if name not in ENGINES:
                raise VerifyError(f"unknown engine {name!r} (choose {', '.join(ENGINES)})")
            path = shutil.which(name, path=search)
            if path is None:
                raise VerifyError(f"{name} not found on PATH (scripts/setup-engine.sh installs podman)")
            return cls(name, path, env)
        for candidate in ENGINES:
            path = shutil.which(candidate, path=search)
            # a docker client alone is common; only a reachable daemon makes it an engine
            if path and (candidate != "docker" or cls(candidate, path, env)._ok(["version"])):
                return cls(candidate, path, env)
        raise VerifyError("no container engine found (podman, buildah or docker); scripts/setup-engine.sh installs one")

    @property
    def can_run(self) -> bool:
        return self.name != "buildah"  # buildah builds images; running them as services needs podman

    def _run(self, args: list[str], timeout: float = 120, **kw) -> subprocess.CompletedProcess:
        env = dict(self.env if self.env is not None else os.environ)
        if self.name == "docker":
            env.setdefault("DOCKER_BUILDKIT", "1")
        try:
            return subprocess.run(
                [self.path, *args], capture_output=True, text=True, timeout=timeout, env=env,
                stdin=subprocess.DEVNULL, check=False, **kw,
            )
        except subprocess.TimeoutExpired as err:  # subprocess.run has killed the client by then
            return subprocess.CompletedProcess(err.cmd, 124, "", f"timed out after {timeout:.0f} s")

    def _ok(self, args: list[str], timeout: float = 30) -> bool:
        return self._run(args, timeout).returncode == 0

    def build(self, dockerfile: Path, context: Path, tag: str) -> tuple[bool, float, str]:
        if self.name == "docker":
            args = ["build", "--network", "host", "-f", str(dockerfile), "-t", tag, str(context)]
        else:
            verb = "bud" if self.name == "buildah" else "build"
            # --format docker: OCI images drop HEALTHCHECK; --pull=never: the bases are local stand-ins
            args = [verb, "--format", "docker", "--pull=never", "--network", "host", "--layers",
                    "-f", str(dockerfile), "-t", tag, str(context)]
        start = time.monotonic()
        proc = self._run(args, timeout=BUILD_TIMEOUT)
        for _ in range(BUILD_RETRIES):
            # buildah before 1.43 fails a build whose cache lookup or commit meets a layer that a parallel
            # `rmi` just removed (buildah#5674: "layer not known"); the same build run again succeeds
            if proc.returncode == 0 or "layer not known" not in proc.stdout + proc.stderr:
                break
            proc = self._run(args, timeout=BUILD_TIMEOUT)
        seconds = round(time.monotonic() - start, 1)
        self.last_steps = build_steps(proc.stdout + proc.stderr)
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        return proc.returncode == 0, seconds, tail

    def inspect(self, image: str) -> dict:
        """Id, size in bytes, layer count and the Docker-style config of an image."""
        if self.name == "buildah":
            proc = self._run(["inspect", "--type", "image", image])
            data = json.loads(proc.stdout) if proc.returncode == 0 else {}
            docker = data.get("Docker", {})
            sizes = self._run(["images", "--json", image])
            size = None
            if sizes.returncode == 0:
                size = _parse_size((json.loads(sizes.stdout) or [{}])[0].get("size", ""))
            return {"Id": data.get("FromImageID"), "Size": size, "Layers": len(docker.get("rootfs", {}).get("diff_ids") or []),
                    "Config": docker.get("config") or {}}
        proc = self._run(["image", "inspect", image])
        if proc.returncode != 0:
            return {}
        data = json.loads(proc.stdout)[0]
        config = dict(data.get("Config") or {})
        if "Healthcheck" not in config and data.get("Healthcheck"):
            config["Healthcheck"] = data["Healthcheck"]  # podman keeps it beside Config
        return {"Id": data.get("Id"), "Size": data.get("Size"), "Layers": len((data.get("RootFS") or {}).get("Layers") or []),
                "Config": config}

    def start(self, image: str) -> str | None:
        args = ["run", "-d", "--network", "host", image]
        if self.name == "podman":
            args.insert(2, "--pull=never")
        proc = self._run(args, timeout=120)
        cid = proc.stdout.strip().splitlines()[-1] if proc.returncode == 0 and proc.stdout.strip() else None
        return cid

    def logs(self, cid: str, lines: int = 15) -> str:
        proc = self._run(["logs", "--tail", str(lines), cid], timeout=30)
        return (proc.stdout + proc.stderr).strip()

    def is_running(self, cid: str) -> bool:
        proc = self._run(["inspect", "--format", "{{.State.Running}}", cid], timeout=30)
        return proc.stdout.strip() == "true"

    def state(self, cid: str) -> dict:
        """Whether the container runs, its exit code and the engine's restart count."""
        proc = self._run(["inspect", cid], timeout=30)
        try:
            data = json.loads(proc.stdout)[0] if proc.returncode == 0 else {}
        except (ValueError, IndexError):
            data = {}
        state = data.get("State") or {}
        return {"running": bool(state.get("Running")), "exit_code": state.get("ExitCode"),
                "restarts": data.get("RestartCount", state.get("RestartCount"))}

    def exec_id_u(self, cid: str) -> int | None:
        proc = self._run(["exec", cid, "id", "-u"], timeout=30)
        return int(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip().isdigit() else None

    def oneshot_id_u(self, image: str) -> int | None:
        """`id -u` as the image's user, for an app that no longer runs; the container is removed by id."""
        with tempfile.TemporaryDirectory(prefix="dfix-verify-") as tmp:
            cidfile = Path(tmp) / "cid"
            proc = self._run(["run", "--cidfile", str(cidfile), "--network", "host", "--entrypoint", "id", image, "-u"], timeout=60)
            if cidfile.exists() and cidfile.read_text().strip():
                self.remove_container(cidfile.read_text().strip())
        out = proc.stdout.strip()
        return int(out) if proc.returncode == 0 and out.isdigit() else None

    def compilers(self, image: str) -> list[str] | None:
        """Which of gcc, cc, g++ and make the image has on its PATH; None when it has no shell to ask."""
        with tempfile.TemporaryDirectory(prefix="dfix-verify-") as tmp:
            cidfile = Path(tmp) / "cid"
            proc = self._run(["run", "--cidfile", str(cidfile), "--network", "host", "--user", "0", "--entrypoint",
                              "sh", image, "-c", "for c in gcc cc g++ make; do command -v $c >/dev/null && echo $c; done; true"],
                             timeout=60)
            if cidfile.exists() and cidfile.read_text().strip():
                self.remove_container(cidfile.read_text().strip())
        return proc.stdout.split() if proc.returncode == 0 else None

    def healthcheck(self, cid: str) -> bool:
        if self.name == "podman":
            # no systemd here, so podman schedules no checks: run one on demand (exit 0 = healthy)
            return self._ok(["healthcheck", "run", cid])
        proc = self._run(["inspect", "--format", "{{.State.Health.Status}}", cid], timeout=30)
        return proc.stdout.strip() == "healthy"

    def remove_container(self, cid: str) -> None:
        args = ["rm", "-f", cid] if self.name == "docker" else ["rm", "-f", "-t", "3", cid]
        self._run(args, timeout=60)

    def remove_image(self, tag: str) -> None:
        """Remove our image by its run-unique tag. rmi of a name only untags while another name holds the
        image: identical builds share an id through the layer cache, and `rmi ID` would delete theirs too."""
        self._run(["rmi", tag], timeout=120)


_STEP = re.compile(r"^(?:\[\d+/\d+\] )?STEP \d+/\d+: (.*)$")  # multi-stage builds prefix the stage


def build_steps(log: str) -> list[list]:
    """[instruction, cached] for each step of a podman/buildah build log ("--> Using cache" follows a reused one)."""
    steps: list[list] = []
    for line in log.splitlines():
        match = _STEP.match(line.strip())
        if match:
            steps.append([match.group(1), False])
        elif steps and line.strip().startswith("--> Using cache"):
            steps[-1][1] = True
    return steps


def _parse_size(text: str) -> int | None:
    match = re.fullmatch(r"\s*([\d.]+)\s*([kMGT]?B)\s*", text or "")
    if not match:
        return None
    scale = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[match.group(2)]
    return int(float(match.group(1)) * scale)


def engine_env(root: Path) -> dict[str, str]:
    """This environment plus the exports of scripts/setup-engine.sh's env.sh under ``root``."""
    env = dict(os.environ)
    for line in (root / "env.sh").read_text().splitlines():
        match = re.fullmatch(r"export (\w+)=(.*)", line.strip())
        if match:
            env[match.group(1)] = match.group(2)
    return env


# ---------------------------------------------------------------------------------------------- probing


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


def _is_parameterless(path: str) -> bool:
    return path.startswith("/") and not re.search(r"[<>{}()\[\]*?^$\\|+\s]", path)


def app_facts(context: Path, dockerfile_text: str, dockerfile_name: str | None = None):
    """What dfix reads of the app the Dockerfile's final stage runs (dfix.context.app.AppFacts), as the
    rules see it; None when there is no command or the Dockerfile cannot be read."""
    from .rules._app import final_app
    from .rules.base import RuleContext
    from .syntax import tokenize

    try:
        doc = tokenize(dockerfile_text)
    except DockerfileSyntaxError:
        return None
    return final_app(doc, RuleContext(build_context=BuildContext(Path(context), dockerfile=dockerfile_name)))


def app_routes(context: Path, dockerfile_text: str, dockerfile_name: str | None = None) -> list[str]:
    """The parameterless GET routes found in the app's code (a Django view answers any method)."""
    facts = app_facts(context, dockerfile_text, dockerfile_name)
    return _get_routes(facts)


def _get_routes(facts) -> list[str]:
    if facts is None:
        return []
    found = [r.path for r in facts.routes if {"GET", "*"} & set(r.methods) and _is_parameterless(r.path)]
    return list(dict.fromkeys(found))[:MAX_APP_ROUTES]


def routes_to_probe(*facts) -> list[str]:
    """The health paths, then every parameterless GET route of the apps' code (original and rewrite
    alike, so both images get the same list), `/` last: it is the route most likely to do real work (a
    page that queries a database), and a hanging `/` must not hold a single-worker server while the
    others wait."""
    found: list[str] = []
    for each in facts:
        found.extend(_get_routes(each))
    ordered = [r for r in HEALTH_ROUTES if r != "/"] + [r for r in found if r != "/"] + ["/"]
    return list(dict.fromkeys(ordered))


def app_ports(declared: list[int], *facts) -> list[int]:
    """The port the app's code and command say it listens on first, then the image's declared ones. A
    server's default port counts only when the image declares none (it is a guess otherwise)."""
    found = [f.port for f in facts if f is not None and f.port is not None
             and (f.port_source != "server-default" or not declared)]
    return list(dict.fromkeys(found + list(declared)))


def _python_of(config: dict) -> str:
    """The interpreter the image's command runs with: its own python, the python beside a virtualenv's
    console script (/opt/venv/bin/gunicorn), else `python` on the image's PATH."""
    argv = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
    if len(argv) >= 3 and os.path.basename(argv[0]) in ("sh", "bash", "dash", "ash") and argv[1] == "-c":
        argv = argv[2].split()
    argv = [w for w in argv if w != "exec" and not re.match(r"^[A-Za-z_]\w*=", w)]
    if not argv:
        return "python"
    first = argv[0]
    if re.match(r"^python(\d+(\.\d+)*)?$", os.path.basename(first)):
        return first
    folder = os.path.dirname(first)
    if first.startswith("/") and os.path.basename(folder) == "bin" and folder not in (
            "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"):
        return f"{folder}/python"
    return "python"


def import_check(engine: Engine, image: str, facts, config: dict | None = None) -> tuple[str | None, bool | None, str | None]:
    """Whether the app's module (from ``facts``) imports in ``image`` as its USER, in its WORKDIR:
    (module, imports, the last line of the error). (None, None, None) when there is no module to import
    or the engine cannot run images; imports is None when no Python could be started.

    No network, so an import that connects to a database fails fast instead of waiting on it."""
    if facts is None or not facts.module or not engine.can_run:
        return None, None, None
    module = facts.module
    code = f"import {module}"
    if facts.module_root:
        code = f"import sys; sys.path.insert(0, {facts.module_root!r}); {code}"
    pythons = list(dict.fromkeys([_python_of(config or {}), "python", "python3"]))
    for python in pythons:
        with tempfile.TemporaryDirectory(prefix="dfix-verify-") as tmp:
            cidfile = Path(tmp) / "cid"
            args = ["run", "--cidfile", str(cidfile), "--network", "none", "--entrypoint", python, image, "-c", code]
            if engine.name == "podman":
                args.insert(1, "--pull=never")
            proc = engine._run(args, timeout=IMPORT_SECONDS)
            if cidfile.exists() and cidfile.read_text().strip():
                engine.remove_container(cidfile.read_text().strip())
        if proc.returncode == 0:
            return module, True, None
        if proc.returncode == 124:
            return module, False, f"the import did not finish in {IMPORT_SECONDS:.0f} s"
        if proc.returncode in (126, 127):
            continue  # the engine could not start this interpreter (not in the image): try the next
        lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        return module, False, lines[-1] if lines else f"exit status {proc.returncode}"
    return module, None, None


# ---------------------------------------------------------------------------------------------- verify


@contextlib.contextmanager
def _port_locks(ports: list[int]):
    """Hold a lock per port while our container binds it, so verify runs on one machine take turns
    (two runs of the same app would otherwise probe each other's container)."""
    import fcntl  # POSIX only, like the engines verify drives

    handles = []
    try:
        for port in sorted(ports):
            handle = open(Path(tempfile.gettempdir()) / f"dfix-verify-port-{port}.lock", "a+")
            handles.append(handle)
            deadline = time.monotonic() + LOCK_WAIT
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise VerifyError(f"port {port} stayed taken by another dfix verify for {LOCK_WAIT:.0f} s") from None
                    time.sleep(0.5)
        yield
    finally:
        for handle in handles:
            handle.close()  # closing releases the lock


def _dockerfile_in(path: Path) -> tuple[Path, Path]:
    path = Path(path)
    if path.is_dir():
        for name in ("Dockerfile", "Containerfile"):
            if (path / name).is_file():
                return path / name, path
        raise VerifyError(f"{path}: no Dockerfile or Containerfile in this directory")
    if path.is_file():
        return path, path.parent
    raise VerifyError(f"{path}: no such file or directory")


def _app_file(context: Path, config: dict) -> Path | None:
    """A source file of the app to change for the rebuild measure: the CMD's module when found."""
    command = " ".join((config.get("Entrypoint") or []) + (config.get("Cmd") or []))
    for module in re.findall(r"(?:^|[\s=])(?:-m\s+)?([A-Za-z_][\w.]*)(?=:[A-Za-z_]|\s|$)", command):
        parts = module.split(".")
        for base in (context, context / "src"):
            for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
                if candidate.is_file():
                    return candidate
    sources = sorted(
        (p for p in context.rglob("*.py") if not any(part.startswith(".") for part in p.relative_to(context).parts)
         and not MANIFESTS.fullmatch(p.name)),
        key=lambda p: (len(p.parts), str(p)),
    )
    if sources:
        return sources[0]
    others = sorted(p for p in context.rglob("*") if p.is_file() and not MANIFESTS.fullmatch(p.name)
                    and not any(part.startswith(".") for part in p.relative_to(context).parts))
    return others[0] if others else None


class _Run:
    """One verification: what it created, so that all of it is removed whatever happens."""

    def __init__(self, engine: Engine, keep: bool, name: str | None = None) -> None:
        self.engine = engine
        self.keep = keep
        self.name = name or f"dfix-verify-{uuid.uuid4().hex[:10]}"
        self.images: list[tuple[str, bool]] = []  # (tag, kept with keep=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="dfix-verify-"))

    def build(self, dockerfile: Path, context: Path, name: str, stats: ImageStats | None = None, keepable: bool = True) -> tuple[bool, float, str, dict]:
        tag = f"localhost/{self.name}:{name}"
        ok, seconds, log = self.engine.build(dockerfile, context, tag)
        info = self.engine.inspect(tag) if ok else {}
        if ok or info:
            self.images.append((tag, keepable))
        if stats is not None:
            stats.builds, stats.build_seconds = ok, seconds
            if ok:
                stats.image, stats.image_id = tag, info.get("Id")
                stats.size_mb = round(info["Size"] / 1e6, 1) if info.get("Size") is not None else None
                stats.layers = info.get("Layers")
                stats.user = (info.get("Config") or {}).get("User") or ""
            else:
                stats.build_error = log
        return ok, seconds, log, info

    def run_and_probe(self, stats: ImageStats, config: dict, ports: list[int], routes: list[str] | None = None) -> None:
        if not self.engine.can_run:
            return
        with _port_locks(ports):
            for port in ports:
                # host networking: a port someone else holds would answer for an app that is not ours
                waited = time.monotonic() + PORT_WAIT
                while not port_free(port) and time.monotonic() < waited:
                    time.sleep(0.5)
                if not port_free(port):
                    raise VerifyError(f"port {port} is in use on this machine; free it to verify")
            cid = self.engine.start(stats.image)
            if cid is None:
                return
            try:
                stats.ran = True
                health = (config.get("Healthcheck") or {}).get("Test") or []
                probe(self.engine, cid, ports, bool(health) and health[0] != "NONE", stats, routes=routes)
                stats.uid = self.engine.exec_id_u(cid) if stats.running else None
                stats.run_log = self.engine.logs(cid) or None
            finally:
                self.engine.remove_container(cid)
            # the next container binds the same port: wait (bounded) for the kernel to let it go
            deadline = time.monotonic() + PORT_WAIT
            while any(not port_free(p) for p in ports) and time.monotonic() < deadline:
                time.sleep(0.2)
        if stats.uid is None:
            stats.uid = self.engine.oneshot_id_u(stats.image)
        if self.engine.can_run:
            stats.compilers = self.engine.compilers(stats.image)

    def rebuild(self, stats: ImageStats, app_file: Path, copy: Path, original: Path, dockerfile: Path, name: str) -> None:
        target = copy / app_file.relative_to(original)
        data = app_file.read_bytes()
        # unique content every time: the layer cache would otherwise answer from an earlier run
        marker = f"\n# dfix verify rebuild {uuid.uuid4().hex}\n".encode()
        target.write_bytes(data + (b"" if data.endswith(b"\n") or not data else b"\n") + marker)
        ok, seconds, _, _ = self.build(dockerfile, copy, f"{name}-rebuild", keepable=False)
        target.write_bytes(data)
        stats.rebuild_seconds = seconds if ok else None
        stats.rebuild_steps = getattr(self.engine, "last_steps", [])
        stats.rebuild_file = str(app_file.relative_to(original))

    def cleanup(self) -> list[str]:
        kept = []
        for tag, keepable in reversed(self.images):
            if self.keep and keepable:
                kept.append(tag)
            else:
                self.engine.remove_image(tag)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return kept


def stage_rewrite(folder: Path, dockerfile: Path, context: Path, result) -> tuple[Path, Path]:
    """Write a rewrite under ``folder`` (outside the user's files) to build it: its Dockerfile, and the build
    context it builds from, which is the user's own unless the fixes also rewrite context files (a
    .dockerignore), then a copy with them. A Dockerfile-specific ignore file goes beside the rewritten
    Dockerfile as the fixes leave it. Raises VerifyError for a fix that writes outside the context."""
    if any(not Path(side).resolve().is_relative_to(context) for side in result.side_files):
        raise VerifyError(f"{dockerfile}: a fix rewrites a file outside the build context")
    folder.mkdir(parents=True)
    rewrite_context = context
    if result.side_files:
        rewrite_context = folder / "context"
        shutil.copytree(context, rewrite_context, symlinks=True)
        for side, (_, side_text) in result.side_files.items():
            target = rewrite_context / Path(side).resolve().relative_to(context)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(side_text.encode("utf-8"))
    rewritten = folder / dockerfile.name
    rewritten.write_text(result.fixed, encoding="utf-8", newline="")
    ignore_name = dockerfile.name + ".dockerignore"
    side_ignore = dockerfile.with_name(ignore_name)
    if side_ignore.is_file() and dockerfile.parent.is_relative_to(context):
        side_ignore = rewrite_context / side_ignore.relative_to(context)  # as the fixes leave it
    if side_ignore.is_file():
        shutil.copyfile(side_ignore, rewritten.with_name(ignore_name))
    return rewritten, rewrite_context


def verify(context_dir: str | os.PathLike, engine: Engine | str | None = None, keep: bool = False,
           rebuild: bool = True, name: str | None = None, options: Options | None = None) -> VerifyReport:
    """Build, run and compare the original Dockerfile in ``context_dir`` and dfix's rewrite of it.

    The images are tagged ``localhost/NAME:original`` and ``:rewrite`` (NAME unique per run by default).
    ``options`` are the command line's (``--unsafe-fixes``, ``--select``); the Dockerfile's config applies over them.
    Raises OriginalBuildError when the original does not build: then nothing can be compared.
    """
    dockerfile, context = _dockerfile_in(Path(context_dir))
    shown = dockerfile  # as the user wrote it, for messages
    context = context.resolve()
    dockerfile = dockerfile.resolve()
    try:
        text = read_source(read_bytes(dockerfile))
    except InputError as err:
        raise VerifyError(str(err)) from None
    except DockerfileSyntaxError as err:
        raise VerifyError(f"{dockerfile}: {err}") from None
    try:
        options = options_for(dockerfile, options or Options())  # the same config a --dry-run would follow
    except ConfigError as err:
        raise VerifyError(str(err)) from None
    result = fix_text(text, str(dockerfile), options, context=BuildContext(context, dockerfile=dockerfile.name))
    if result.error:
        raise VerifyError(f"{dockerfile}: {result.error}")
    if not isinstance(engine, Engine):
        engine = Engine.find(engine)

    report = VerifyReport(str(context), str(dockerfile), engine.name, result.changed,
                          sorted({f.code for f in result.applied}), ImageStats(), ImageStats())
    run = _Run(engine, keep, name)
    try:
        rewritten, rewrite_context = stage_rewrite(run.tmp / "rewrite", dockerfile, context, result)
        report.side_files = sorted(str(Path(side).resolve().relative_to(context)) for side in result.side_files)

        _, _, _, info = run.build(dockerfile, context, "original", report.original)
        if not report.original.builds:
            raise OriginalBuildError(shown, report.original.build_error or "")
        if result.changed:
            run.build(rewritten, rewrite_context, "rewrite", report.rewrite)
        config = info.get("Config") or {}
        if not report.original.builds and report.rewrite.builds:
            config = engine.inspect(report.rewrite.image).get("Config") or {}
        facts = (app_facts(context, text, dockerfile.name), app_facts(rewrite_context, result.fixed, dockerfile.name))
        declared = app_ports(ports_of(config), *facts)
        ports = declared or [p for p in DEFAULT_PORTS if port_free(p)]
        routes = routes_to_probe(*facts)

        for stats, own_facts in zip((report.original, report.rewrite), facts):
            if stats.builds:
                image_config = engine.inspect(stats.image).get("Config") or {}
                run.run_and_probe(stats, image_config, ports, routes)
                stats.module, stats.imports, stats.import_error = import_check(
                    engine, stats.image, own_facts or facts[0] or facts[1], image_config)

        if rebuild and (report.original.builds or report.rewrite.builds):
            app_file = _app_file(context, config)
            if app_file is not None:
                copy = run.tmp / "context"
                shutil.copytree(context, copy, symlinks=True)
                copied_dockerfile = copy / dockerfile.relative_to(context) if dockerfile.is_relative_to(context) else dockerfile
                if report.original.builds:
                    run.rebuild(report.original, app_file, copy, context, copied_dockerfile, "original")
                if report.rewrite.builds:
                    if rewrite_context != context:
                        copy = rewrite_context  # a copy already, never the user's folder
                    run.rebuild(report.rewrite, app_file, copy, context, rewritten, "rewrite")

        if not result.changed:
            # the rewrite is the original byte for byte: one image, measured once
            report.rewrite = ImageStats(**asdict(report.original))
        _judge(report, engine)
    finally:
        report.kept = run.cleanup()
    return report


def _judge(report: VerifyReport, engine: Engine) -> None:
    before, after = report.original, report.rewrite
    reasons = []
    if not after.builds:
        reasons.append("the rewrite does not build")
    elif before.builds:
        compared = route_differences(before, after)
        if compared is not None:
            reasons.extend(compared)
        elif answer_rank(after) < answer_rank(before):  # no routes probed in both: the best answers
            reasons.append(f"the rewrite answers {after.status or 'nothing'}, the original {before.status}")
        if before.healthcheck == "healthy" and after.healthcheck != "healthy":
            reasons.append("the original's healthcheck passes, the rewrite's does not")
        reasons.extend(state_differences(before, after))
    report.ok = not reasons
    if not engine.can_run:
        reasons.append(f"not run: {engine.name} only builds; install podman to run and probe the images")
    elif report.ok and before.ran and before.status is None and after.status is None:
        reasons.append("neither image answered HTTP: compared by build and healthcheck only")
    report.reasons = reasons


def answer_class(stats: ImageStats, route: str) -> int | None:
    """A route's answer as the judge compares it: the status's class (2 for 2xx ...), None for none
    (a timeout in both images is alike; 200 and 500 are not)."""
    status = stats.routes.get(route)
    return None if status is None else status // 100


def describe_answer(stats: ImageStats, route: str) -> str:
    if route in stats.routes:
        return str(stats.routes[route])
    if route in stats.unanswered:
        return "timeout" if stats.unanswered[route] == "timeout" else "no answer"
    return "-"


def route_differences(before: ImageStats, after: ImageStats) -> list[str] | None:
    """One reason per route probed in both images whose answer differs in class; None when no route was
    probed in both (nothing to compare route by route)."""
    if not (before.ran and after.ran):
        return None
    common = [r for r in before.probed if r in after.probed]
    if not common:
        return None
    reasons = []
    for route in common:
        if answer_class(before, route) != answer_class(after, route):
            reasons.append(f"GET {route}: the original answers {describe_answer(before, route)}, "
                           f"the rewrite {describe_answer(after, route)}")
    return reasons


def state_differences(before: ImageStats, after: ImageStats) -> list[str]:
    """After the probes: the rewrite's container stopped (or crashed, or restarted) where the original's
    did not, and its app module imports in the original only."""
    reasons = []
    if before.running and after.ran and not after.running:
        exited = f" (exit code {after.exit_code})" if after.exit_code is not None else ""
        reasons.append(f"the rewrite's container stopped{exited}, the original's kept running")
    elif before.running is False and after.running is False and before.exit_code == 0 \
            and after.exit_code not in (0, None):
        reasons.append(f"the rewrite's container exited with {after.exit_code}, the original's with 0")
    if (after.restarts or 0) > (before.restarts or 0):
        reasons.append(f"the rewrite's container restarted {after.restarts} times, the original's {before.restarts or 0}")
    if before.imports and after.imports is False:
        reasons.append(f"the app module {after.module or before.module} does not import in the rewrite as its user: "
                       f"{after.import_error}")
    return reasons


def _cell(value, unit: str = "") -> str:
    if value is None:
        return "-"
    if value is True or value is False:
        return "yes" if value else "no"
    return f"{value}{unit}"


def table_rows(report: VerifyReport) -> list[tuple[str, str, str]]:
    def answer(s: ImageStats) -> str:
        if not s.ran:
            return "-"
        return f"{s.status} {s.route}" if s.status is not None else "no answer"

    def user(s: ImageStats) -> str:
        if s.user is None:
            return "-"
        return f"{s.user or 'root (unset)'}, uid {_cell(s.uid)}"

    def running(s: ImageStats) -> str:
        if not s.ran:
            return "-"
        if s.running:
            return "yes" + (f" ({s.restarts} restarts)" if s.restarts else "")
        return "no" + (f", exit code {s.exit_code}" if s.exit_code is not None else "")

    def imports(s: ImageStats) -> str:
        if s.imports is None:
            return "-"
        return "yes" if s.imports else f"no: {s.import_error}"

    # one row per probed route, in probe order: what each image answered to the same request
    route_rows = [(f"  GET {route}", lambda s, route=route: describe_answer(s, route))
                  for route in dict.fromkeys(report.original.probed + report.rewrite.probed)]
    module = report.original.module or report.rewrite.module
    rows = []
    for label, get in (
        ("builds", lambda s: _cell(s.builds)),
        ("answers", answer),
        *route_rows,
        ("running after the probes", running),
        *([(f"imports {module}", imports)] if module else []),
        ("healthcheck", lambda s: s.healthcheck or "none"),
        ("size", lambda s: _cell(s.size_mb, " MB")),
        ("layers", lambda s: _cell(s.layers)),
        ("user", user),
        ("build time", lambda s: _cell(s.build_seconds, " s")),
        ("rebuild after an app change", lambda s: _cell(s.rebuild_seconds, " s")),
        ("layers reused by that rebuild", lambda s: f"{sum(c for _, c in s.rebuild_steps)}/{len(s.rebuild_steps)}" if s.rebuild_steps else "-"),
        ("compilers inside", lambda s: "-" if s.compilers is None else (", ".join(s.compilers) or "none")),
    ):
        rows.append((label, get(report.original), get(report.rewrite)))
    return rows


def print_report(report: VerifyReport, output_format: str = "text") -> None:
    import sys

    if output_format == "json":
        print(json.dumps(report.to_dict(), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    title = f"{report.dockerfile} ({report.engine})"
    if not report.changed:
        title += ": dfix changes nothing, one image"
    table = Table(title=title, title_justify="left")
    table.add_column("")
    table.add_column("original")
    table.add_column("rewrite" + (f" ({', '.join(report.applied)})" if report.applied else "")
                     + "".join(f" + {side}" for side in report.side_files))
    for row in table_rows(report):
        table.add_row(*row)
    console = Console(file=sys.stdout, width=max(100, Console().width))
    console.print(table)
    for stats, name in ((report.original, "original"), (report.rewrite, "rewrite")):
        if stats.build_error and not (name == "rewrite" and not report.changed):
            console.print(f"{name} build failed:\n{stats.build_error}", markup=False, highlight=False)
    for reason in report.reasons:
        console.print(f"note: {reason}" if report.ok else f"worse: {reason}", markup=False, highlight=False)
    for tag in report.kept:
        console.print(f"kept {tag}", markup=False, highlight=False)
    console.print("verified: the rewrite builds and answers every probed route like the original" if report.ok
                  else "not verified", markup=False, highlight=False)


# Assertions the issue asks for once the non-root and multi-stage fixes exist (see tests/test_verify_build.py).


def runs_as_non_root(report: VerifyReport) -> bool:
    return report.rewrite.uid not in (None, 0)


def shrinks_by(report: VerifyReport, fraction: float) -> bool:
    before, after = report.original.size_mb, report.rewrite.size_mb
    return before is not None and after is not None and after <= before * (1 - fraction)
