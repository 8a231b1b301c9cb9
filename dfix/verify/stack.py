"""Verify a Compose stack: bring up the original file and dfix's rewrite of it (the `--dry-run` result,
written to a temporary folder outside the user's; the user's folder stays the project directory, so build
contexts, bind mounts and `.env` resolve as they do for the original), one after the other, each torn
down before the next, and judge the rewrite by what the stack does.

What is watched (dfix.compose.stack): each service's first start, when it became ready (its healthcheck
passed; for a database without one, the check DF701 would give it, run in its container; otherwise it
counts from its start), and its final state. The app is each service built from a Dockerfile in the
folder; it is asked for its health route (the one dfix's reading of its code finds, as DF506 and DF705 do,
else `/`) on its port (the code's or command's, else EXPOSE's) at its container's address, for a bounded
time. The verdict is the rewrite's: every app answers, and was started only once each service it depends
on was ready. The original is shown for comparison.
"""

from __future__ import annotations

import http.client
import os
import tempfile
import time
from pathlib import Path

from ..files import InputError, is_compose_name, read_bytes
from ..records import asdict, field, record
from .results import VerifyError

# Compose's own default names, in the order `docker compose` looks for them
MAIN_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
UP_SECONDS = 600.0  # compose up, builds included
ANSWER_SECONDS = 30.0  # from the app's start until it answers HTTP (as image verify waits for a cold start)
READY_SECONDS = 60.0  # from compose up returning until each dependency's readiness is known
REQUEST_SECONDS = 5.0
BODY_CHARS = 200
LOG_LINES = 8


@record
class ServiceRun:
    """One service in one stack; times are seconds since `compose up` began."""

    started: float | None = None  # its first start (a restart policy may start it again)
    ready: float | None = None  # when it was first seen ready, by `ready_by`
    ready_by: str = "started"  # "healthy" (its healthcheck), "ready" (dfix's readiness check), "started"
    state: str = ""
    health: str = ""
    exit_code: int | None = None
    restarts: int = 0


@record
class Dependency:
    service: str
    ready_by: str
    ready: float | None  # None: not ready within the wait
    before_ready: bool  # the app was started before this dependency was ready (or it never was)
    gap: float | None  # app start minus readiness: negative when the app came first


@record
class AppRun:
    dependencies: list[Dependency] = field(default_factory=list)
    url: str | None = None
    status: int | None = None  # HTTP status of the health route; None: no answer
    answer_error: str | None = None  # why there was no answer
    body: str | None = None  # the start of the answer
    answers: bool = False  # an HTTP status below 500
    healthcheck: str | None = None  # the service's own healthcheck run once, as Docker runs it: passes/fails
    log: str | None = None  # the end of its output, when it is not running


@record
class StackRun:
    up: bool = False  # compose up succeeded
    up_error: str | None = None
    up_seconds: float | None = None
    services: dict[str, ServiceRun] = field(default_factory=dict)
    apps: dict[str, AppRun] = field(default_factory=dict)


@record
class App:
    service: str
    dockerfile: str
    port: int | None
    route: str
    route_from: str  # "code" when the app's code serves it, else "guess"
    depends_on: list[str]


@record
class StackReport:
    compose_file: str
    project_directory: str
    engine: str
    changed: bool
    applied: list[str]
    apps: list[App]
    original: StackRun = field(default_factory=StackRun)
    rewrite: StackRun = field(default_factory=StackRun)
    not_used: list[str] = field(default_factory=list)  # other Compose files in the folder (overrides)
    ok: bool = False
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# -- what to verify ---------------------------------------------------------------------------------

def compose_file_in(path: Path) -> tuple[Path, list[Path]] | None:
    """The Compose file `dfix verify PATH` brings up, and the other Compose files beside it it leaves out;
    None when PATH is neither a Compose file nor a folder holding one (a Dockerfile's verify then).

    In a folder: Compose's own default name first; else the one file that is not for development (an
    override or a file named for dev only makes sense on top of a main file)."""
    path = Path(path)
    if path.is_file() or not path.exists():
        return (path, []) if is_compose_name(path.name) else None
    found = sorted(p for p in path.iterdir() if p.is_file() and is_compose_name(p.name))
    if not found:
        return None
    main = next((path / name for name in MAIN_NAMES if (path / name) in found), None)
    if main is None:
        from ..compose.document import ComposeDocument

        production = [p for p in found if ComposeDocument("", str(p), None, {}).development is None]
        if len(production) != 1:
            names = ", ".join(p.name for p in found)
            raise VerifyError(f"{path}: {len(found)} Compose files and no compose.yaml or docker-compose.yml: "
                              f"name the one to verify ({names})")
        main = production[0]
    return main, [p for p in found if p != main]


def _apps(model: dict, folder: Path) -> list[App]:
    from ..rules.compose_app_healthcheck import _built_here
    from .app import app_facts

    services = model.get("services") if isinstance(model.get("services"), dict) else {}
    apps = []
    for name, service in services.items():
        if not isinstance(service, dict) or not _built_here(service):
            continue
        build = service["build"]
        context = folder / (build if isinstance(build, str) else build.get("context", "."))
        dockerfile = context / ("Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile"))
        try:
            text = read_bytes(dockerfile).decode("utf-8")
        except (InputError, UnicodeDecodeError, OSError):
            continue
        facts = app_facts(context, text, dockerfile.name)
        port = facts.port if facts is not None else None
        route = facts.health_route if facts is not None else None
        if route is not None:  # as the app declares it (Django's "healthz/"), as DF506 requests it
            route = next((r.path for r in facts.routes if r.path and r.path.rstrip("/") == route.rstrip("/")), route)
        apps.append(App(name, str(dockerfile), port, route or "/", "code" if route else "guess",
                        _depends_on(service.get("depends_on"))))
    return apps


def _depends_on(value) -> list[str]:
    if isinstance(value, (list, dict)):
        return [str(name) for name in value]
    return []


def _readiness_checks(doc) -> dict[str, list[str]]:
    """A database's readiness check, whether the file gives it a healthcheck or not: DF701's, run in its
    container through sh (with Compose's `$$` undone), so the original is timed by the rewrite's measure."""
    from ..rules.compose_depends_healthy import HEALTH_TESTS

    return {name: ["sh", "-c", HEALTH_TESTS[service.database].replace("$$", "$")]
            for name, service in doc.services.items() if service.database}


# -- the verification -------------------------------------------------------------------------------

def verify_stack(path: str | os.PathLike, engine: str | None = None, options=None,
                 env: dict[str, str] | None = None) -> StackReport:
    """Bring up the Compose file at PATH (or the one in the folder PATH) and dfix's rewrite of it, one
    at a time, and judge the rewrite. Raises VerifyError when it cannot verify (bad input, no engine)."""
    from ..compose import fix_compose
    from ..compose.document import ComposeDocument, ComposeSyntaxError
    from ..compose.stack import StackError, open_engine, why_no_engine
    from ..config import ConfigError, options_for
    from ..engine import Options, read_source
    from ..syntax import DockerfileSyntaxError

    found = compose_file_in(Path(path))
    if found is None:
        raise VerifyError(f"{path}: no Compose file here")
    compose_file, others = found
    if not compose_file.exists():
        raise VerifyError(f"{compose_file}: no such file or directory")
    try:
        text = read_source(read_bytes(compose_file))
        doc = ComposeDocument.parse(text, str(compose_file))
    except InputError as err:
        raise VerifyError(str(err)) from None
    except (ComposeSyntaxError, DockerfileSyntaxError) as err:
        raise VerifyError(f"{compose_file}: {err}") from None
    try:
        options = options_for(compose_file, options or Options())  # the rule selection a --dry-run follows
    except ConfigError as err:
        raise VerifyError(str(err)) from None
    result = fix_compose(text, str(compose_file), options, location=str(compose_file))
    if result.error:
        raise VerifyError(f"{compose_file}: {result.error}")
    folder = compose_file.resolve().parent
    apps = _apps(doc.model, folder)
    if not apps:
        raise VerifyError(f"{compose_file}: no service is built from a Dockerfile in its folder: no app to probe")
    if engine == "buildah":
        raise VerifyError(f"{compose_file}: buildah builds images; bringing up a stack needs podman or docker")
    missing = why_no_engine() if engine is None else None
    if missing:
        raise VerifyError(f"{compose_file}: {missing}")
    checks = _readiness_checks(doc)
    try:
        opened = open_engine(env, engine)
    except StackError as err:
        raise VerifyError(f"{compose_file}: {err}") from None
    with opened, tempfile.TemporaryDirectory(prefix="dfix-verify-stack-") as tmp:
        label = "docker compose" if opened.name == "docker" else "podman, docker-compose"
        report = StackReport(str(compose_file), str(folder), label, result.changed,
                             sorted({f.code for f in result.applied}), apps, not_used=[str(p) for p in others])
        rewritten = Path(tmp) / compose_file.name
        rewritten.write_text(result.fixed, encoding="utf-8", newline="")
        report.original = _bring_up(opened, compose_file.resolve(), folder, apps, checks)
        rewritten_model = ComposeDocument.parse(result.fixed, str(compose_file)).model
        report.rewrite = _bring_up(opened, rewritten, folder, apps, checks, rewritten_model)
    _judge(report)
    return report


def _bring_up(engine, compose_file: Path, folder: Path, apps: list[App], checks: dict[str, list[str]],
              model: dict | None = None) -> StackRun:
    from ..compose.document import load_model
    from ..compose.stack import Stack

    model = model if model is not None else load_model(compose_file.read_text(encoding="utf-8"))
    run = StackRun()
    with Stack(engine, compose_file, probes=checks, project_directory=folder) as stack:
        up = stack.up(timeout=UP_SECONDS)
        t0 = stack.up_started
        run.up_seconds = round(stack.up_returned - t0, 1)
        run.up = up.returncode == 0
        if not run.up:
            lines = [line.strip() for line in stack.up_output.splitlines() if line.strip()]
            run.up_error = lines[-1] if lines else f"exit status {up.returncode}"
        answers: dict[str, tuple] = {}
        deadline = time.monotonic() + READY_SECONDS
        while True:
            for app in apps:
                if app.service not in answers:
                    answered = _ask(stack, app)
                    if answered is not None:
                        answers[app.service] = answered
            waiting = [d for app in apps for d in app.depends_on if _ready(stack, d, checks)[0] is None
                       and stack.services.get(d) is not None and stack.services[d].state == "running"]
            if (len(answers) == len(apps) and not waiting) or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        stack._observe()
        for name, seen in sorted(stack.services.items()):
            ready, by = _ready(stack, name, checks)
            run.services[name] = ServiceRun(_since(seen.first_started, t0), _since(ready, t0), by, seen.state,
                                            seen.health, seen.exit_code, seen.restarts)
        for app in apps:
            run.apps[app.service] = _app_run(stack, app, run, answers.get(app.service), model)
    return run


def _ready(stack, name: str, checks) -> tuple[float | None, str]:
    seen = stack.services.get(name)
    if seen is None:
        return None, "started"
    if seen.has_healthcheck:
        return seen.healthy, "healthy"
    if name in checks:
        return seen.ready, "ready"
    return seen.first_started, "started"


def _since(when: float | None, t0: float) -> float | None:
    return None if when is None else round(when - t0, 1)


def _ask(stack, app: App) -> tuple | None:
    """(url, status, body, error) once the app answers HTTP or cannot any more (it stopped, the wait is
    over); None while it is worth asking again."""
    from ..compose.stack import StackError
    from .probing import DEFAULT_PORTS

    seen = stack.services.get(app.service)
    if seen is None or seen.first_started is None:  # compose has returned: it will not start it now
        return None, None, None, "never started"
    over = time.time() - (seen.started or seen.first_started) > ANSWER_SECONDS
    if seen.state != "running":
        stopped = seen.state in ("exited", "dead")
        return (None, None, None, f"not running ({seen.state or 'unknown'})") if over or stopped else None
    try:
        address = stack.address(app.service)
    except StackError:
        return None
    last = None
    for port in list(dict.fromkeys(([app.port] if app.port else []) + ([] if app.port else list(DEFAULT_PORTS)))):
        url = f"http://{address}:{port}{app.route}"
        status, body, error = _get(address, port, app.route)
        if status is not None:
            return url, status, body, None
        last = (url, None, None, error)
    return last if over else None


def _get(host: str, port: int, route: str) -> tuple[int | None, str | None, str | None]:
    conn = http.client.HTTPConnection(host, port, timeout=REQUEST_SECONDS)
    try:
        conn.request("GET", route, headers={"Host": "localhost"})
        response = conn.getresponse()
        return response.status, response.read(BODY_CHARS).decode("utf-8", "replace"), None
    except TimeoutError:
        return None, None, "timeout"
    except (OSError, http.client.HTTPException):
        return None, None, "no answer"
    finally:
        conn.close()


def _app_run(stack, app: App, run: StackRun, answer, model: dict) -> AppRun:
    out = AppRun()
    own = run.services.get(app.service) or ServiceRun()
    for name in app.depends_on:
        dep = run.services.get(name) or ServiceRun()
        gap = None if own.started is None or dep.ready is None else round(own.started - dep.ready, 1)
        before = own.started is not None and (dep.ready is None or own.started < dep.ready)
        out.dependencies.append(Dependency(name, dep.ready_by, dep.ready, before, gap))
    if answer is not None:
        out.url, out.status, out.body, out.answer_error = answer
    else:
        out.answer_error = "no answer"
    out.answers = out.status is not None and out.status < 500
    service = (model.get("services") or {}).get(app.service) or {}
    check = service.get("healthcheck") if isinstance(service, dict) else None
    if isinstance(check, dict) and own.state == "running" and not check.get("disable"):
        argv = _as_docker_runs(check.get("test"))
        if argv:
            out.healthcheck = "passes" if stack.exec(app.service, *argv).returncode == 0 else "fails"
    if own.state != "running":
        logs = stack.compose("logs", "--no-color", "--no-log-prefix", app.service, timeout=60)
        out.log = "\n".join((logs.stdout + logs.stderr).splitlines()[-LOG_LINES:])
    return out


def _as_docker_runs(test) -> list[str] | None:
    """A Compose healthcheck test as the command Docker runs (podman 4.3's Docker API splits a CMD test's
    words on spaces, podman#26519, so its own `healthcheck run` cannot judge one compose created)."""
    if isinstance(test, str):
        return ["sh", "-c", test.replace("$$", "$")]
    if isinstance(test, list) and test and all(isinstance(w, str) for w in test):
        words = [w.replace("$$", "$") for w in test[1:]]
        if test[0] == "CMD" and words:
            return words
        if test[0] == "CMD-SHELL" and words:
            return ["sh", "-c", " ".join(words)]
    return None


def _judge(report: StackReport) -> None:
    reasons = []
    run = report.rewrite
    if not run.up:
        reasons.append(f"the rewritten stack did not come up: {run.up_error}")
    for app in report.apps:
        seen = run.apps.get(app.service)
        if seen is None:
            continue
        for dep in seen.dependencies:
            if dep.before_ready:
                state = _word(dep.ready_by)
                reasons.append(f"{app.service} started before {dep.service} was {state}"
                               + (f" ({-dep.gap:.1f} s)" if dep.gap is not None else f" (not {state} within the wait)"))
        if not seen.answers:
            what = f"answers {seen.status}" if seen.status is not None else (seen.answer_error or "no answer")
            reasons.append(f"{app.service} does not answer GET {app.route}: {what}")
    report.reasons = reasons
    report.ok = not reasons


def _word(ready_by: str) -> str:
    return {"healthy": "healthy", "ready": "ready", "started": "running"}[ready_by]


# -- the report -------------------------------------------------------------------------------------

def summary(report: StackReport, which: str) -> list[str]:
    """One line per app: when it started against its dependencies, how it ended, what it answered."""
    run: StackRun = getattr(report, which)
    lines = []
    if not run.up:
        lines.append(f"{which}: compose up failed: {run.up_error}")
    for app in report.apps:
        seen = run.apps.get(app.service)
        if seen is None:
            continue
        parts = []
        for dep in seen.dependencies:
            state = _word(dep.ready_by)
            if dep.ready is None:
                parts.append(f"before {dep.service} was {state} (it was not, within the wait)")
            elif dep.gap is not None:
                side = "before" if dep.gap < 0 else "after"
                parts.append(f"{abs(dep.gap):.1f} s {side} {dep.service} was {state}")
        timing = f"{app.service} started " + " and ".join(parts) if parts else f"{app.service}: no dependencies"
        own = run.services.get(app.service) or ServiceRun()
        end = own.state or "never started"
        if own.state != "running" and own.exit_code is not None:
            end = f"exited {own.exit_code}"
        if own.restarts:
            end += f" ({own.restarts} restarts)"
        answer = (f"GET {app.route} answers {seen.status}" if seen.status is not None
                  else f"GET {app.route}: {seen.answer_error or 'no answer'}")
        check = f"; its healthcheck {seen.healthcheck}" if seen.healthcheck else ""
        lines.append(f"{which}: {timing}; {end}; {answer}{check}")
    return lines


def service_rows(report: StackReport) -> list[tuple[str, str, str]]:
    def cell(s: ServiceRun | None) -> str:
        if s is None:
            return "-"
        out = [f"started {s.started:.1f} s" if s.started is not None else "not started"]
        if s.ready_by != "started":
            out.append(f"{_word(s.ready_by)} {s.ready:.1f} s" if s.ready is not None
                       else f"health {s.health}" if s.health else f"never {_word(s.ready_by)}")
        out.append(f"exited {s.exit_code}" if s.exit_code is not None else s.state or "?")
        return ", ".join(out)

    names = list(dict.fromkeys([*report.original.services, *report.rewrite.services]))
    return [(name, cell(report.original.services.get(name)), cell(report.rewrite.services.get(name))) for name in names]


def print_stack_report(report: StackReport, output_format: str = "text") -> None:
    import json

    if output_format == "json":
        print(json.dumps(report.to_dict(), indent=2))
        return
    applied = ", ".join(report.applied) if report.applied else "no changes"
    print(f"{report.compose_file} ({report.engine}): the rewrite applies {applied}")
    for other in report.not_used:
        print(f"note: {Path(other).name} is not applied: {Path(report.compose_file).name} is verified alone")
    for app in report.apps:
        port = app.port if app.port is not None else "/".join(map(str, _default_ports()))
        print(f"app: {app.service} (from {app.dockerfile}), GET {app.route} on port {port}"
              + (" (no health route found in its code)" if app.route_from == "guess" else ""))
    rows = [("service (s after up)", "original", "rewrite"), *service_rows(report)]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[2])
    print("(healthy: its own healthcheck passed; ready: the check DF701 gives its image passed in it)")
    for which in ("original", "rewrite"):
        for line in summary(report, which):
            print(line)
        for service, seen in getattr(report, which).apps.items():
            if seen.log and (which == "original" or not report.ok):
                print(f"  {service}'s last output:")
                for line in seen.log.splitlines():
                    print(f"    {line}")
    for reason in report.reasons:
        print(f"worse: {reason}")
    print("verified: the rewritten stack's app answers once its dependencies are ready" if report.ok
          else "not verified")


def _default_ports() -> tuple[int, ...]:
    from .probing import DEFAULT_PORTS

    return DEFAULT_PORTS


def report_from_dict(data: dict) -> StackReport:
    """A StackReport back from its JSON (to print a saved report as text)."""
    def run_of(d: dict) -> StackRun:
        return StackRun(d["up"], d["up_error"], d["up_seconds"],
                        {k: ServiceRun(**v) for k, v in d["services"].items()},
                        {k: AppRun(**{**v, "dependencies": [Dependency(**x) for x in v["dependencies"]]})
                         for k, v in d["apps"].items()})

    return StackReport(**{**data, "apps": [App(**a) for a in data["apps"]], "original": run_of(data["original"]),
                          "rewrite": run_of(data["rewrite"])})
