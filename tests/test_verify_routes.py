"""`dfix verify` probes every parameterless GET route of the app and compares the two images route by
route: the judge on its own (no engine), the probing against a real local HTTP server, and one real
build of a Flask app whose `/` waits on a MongoDB that is not there (issue 12, item 2)."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from dfix import verify as verify_mod
from dfix.verify import app as verify_app
from dfix.verify.compare import _judge
from dfix.context.app import AppFacts
from dfix.verify import Engine, ImageStats, VerifyReport, app_routes, probe_routes, routes_to_probe, table_rows

from .conftest import ROOT
from .test_verify_build import env  # noqa: F401  (the engine's environment, a fixture)

FLASK_APP = '''\
import os
import signal
import sys

from flask import Flask
from pymongo import MongoClient

# PID 1 of a container ignores SIGTERM it has no handler for: stop at once rather than at the kill
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
app = Flask(__name__)
# compose's service name: outside compose there is no such host, so a query waits out server selection
client = MongoClient(os.environ.get("MONGO_URL", "mongodb://mongo:27017/"), serverSelectionTimeoutMS=60000)


@app.get("/")
def index():
    return {"items": client.shop.items.count_documents({})}


@app.get("/health")
def health():
    return {"ok": True}


@app.get("/about")
def about():
    return "a shop"


@app.get("/items/<int:item_id>")
def item(item_id):
    return {"id": item_id}


@app.post("/items")
def add_item():
    return {}, 201
'''

# an app that logs to /var/log: fine as root, a PermissionError (500) once the rewrite runs as a user
VISITS_ROUTE = '''

@app.get("/visits")
def visits():
    with open("/var/log/shop-visits.log", "a") as log:
        log.write("visit\\n")
    return "counted"
'''

PORT = 8188
# the app's dependencies come from an image the test builds once (one pip install for every build here)
DEPENDENCIES = "python -m venv /venv && /venv/bin/pip install --no-cache-dir flask==3.0.3 pymongo==4.8.0"
DOCKERFILE = """\
FROM python:3.12-slim
COPY --from={deps} /venv /venv
WORKDIR /app
COPY . .
EXPOSE {port}
CMD ["/venv/bin/flask", "--app", "app", "run", "--host", "0.0.0.0", "--port", "{port}"]
"""


def flask_app(path: Path, visits: bool, deps: str = "localhost/deps:1") -> Path:
    path.mkdir(parents=True)
    (path / "app.py").write_text(FLASK_APP + (VISITS_ROUTE if visits else ""))
    (path / "Dockerfile").write_text(DOCKERFILE.format(deps=deps, port=PORT))
    return path


# ---------------------------------------------------------------------------------------------- no engine


def stats(**kw) -> ImageStats:
    return ImageStats(**{"builds": True, "ran": True, "running": True, "status": 200, **kw})


def answered(**routes) -> dict:
    """probed/routes/unanswered of one image: a route given as an int answered, "timeout" did not."""
    paths = {name.replace("_", "/") if name != "root" else "/": answer for name, answer in routes.items()}
    return {"probed": list(paths), "routes": {p: a for p, a in paths.items() if isinstance(a, int)},
            "unanswered": {p: a for p, a in paths.items() if not isinstance(a, int)}}


def judged(before: ImageStats, after: ImageStats) -> VerifyReport:
    report = VerifyReport("c", "c/Dockerfile", "podman", True, [], before, after)
    _judge(report, Engine("podman", "/usr/bin/podman"))
    return report


def test_routes_are_compared_one_by_one():
    same = answered(_health=200, _about=200, root="timeout")
    assert judged(stats(**same), stats(**same)).ok  # a timeout in both images is alike
    report = judged(stats(**same), stats(**answered(_health=200, _about=500, root="timeout")))
    assert not report.ok and report.reasons == ["GET /about: the original answers 200, the rewrite 500"]
    report = judged(stats(**same), stats(**answered(_health=200, _about="timeout", root="timeout")))
    assert report.reasons == ["GET /about: the original answers 200, the rewrite timeout"]
    report = judged(stats(**same), stats(**answered(_health=200, _about=200, root=200)))
    assert report.reasons == ["GET /: the original answers timeout, the rewrite 200"]  # like the original, or not
    # the same class is alike (a 201 for a 200, a 302 for a 301); a route probed in one image only is not compared
    assert judged(stats(**answered(_health=200, _old=301)), stats(**answered(_health=201, _old=302))).ok
    assert judged(stats(**answered(_health=200)), stats(**answered(_health=200, _extra=500))).ok
    # the best answer alone (today's /health) would have hidden the broken route
    broken = judged(stats(**same), stats(**answered(_health=200, _about=404, root="timeout")))
    assert broken.original.status == broken.rewrite.status == 200 and not broken.ok


def test_container_state_and_import_are_compared():
    assert judged(stats(running=False, exit_code=3), stats(running=False, exit_code=3)).ok
    assert judged(stats(running=False, exit_code=0), stats(running=False, exit_code=1)).reasons == [
        "the rewrite's container exited with 1, the original's with 0"]
    assert judged(stats(), stats(running=False, exit_code=137)).reasons == [
        "the rewrite's container stopped (exit code 137), the original's kept running"]
    assert judged(stats(restarts=0), stats(restarts=4)).reasons == [
        "the rewrite's container restarted 4 times, the original's 0"]
    failing = stats(module="shop.app", imports=False, import_error="PermissionError: [Errno 13] Permission denied: 'db.sqlite3'")
    assert judged(stats(module="shop.app", imports=True), failing).reasons == [
        "the app module shop.app does not import in the rewrite as its user: "
        "PermissionError: [Errno 13] Permission denied: 'db.sqlite3'"]
    assert judged(failing, failing).ok  # broken in both: not the rewrite's doing
    assert judged(stats(module="shop.app", imports=True), stats()).ok  # not checked in the rewrite


def test_table_has_a_row_per_route():
    report = VerifyReport("c", "c/Dockerfile", "podman", True, [],
                          stats(module="app", imports=True, **answered(_health=200, _about=200, root="timeout")),
                          stats(module="app", imports=False, import_error="ImportError: x",
                                **answered(_health=200, _about=500, root="timeout")))
    rows = {label.strip(): (before, after) for label, before, after in table_rows(report)}
    assert rows["GET /health"] == ("200", "200")
    assert rows["GET /about"] == ("200", "500")
    assert rows["GET /"] == ("timeout", "timeout")
    assert rows["imports app"] == ("yes", "no: ImportError: x")
    assert rows["running after the probes"] == ("yes", "yes")
    labels = [label.strip() for label, _, _ in table_rows(report)]
    assert labels.index("GET /health") < labels.index("GET /about") < labels.index("GET /")
    data = json.loads(json.dumps(report.to_dict()))
    assert data["rewrite"]["routes"] == {"/health": 200, "/about": 500}  # the answered routes, as before
    assert data["rewrite"]["unanswered"] == {"/": "timeout"} and data["rewrite"]["probed"] == ["/health", "/about", "/"]


def test_routes_come_from_the_app_code(tmp_path):
    app = flask_app(tmp_path / "shop", visits=True)
    dockerfile = (app / "Dockerfile").read_text()
    found = app_routes(app, dockerfile, "Dockerfile")
    assert found == ["/", "/health", "/about", "/visits"]  # no /items/<id>, no POST-only /items
    facts = verify_mod.app_facts(app, dockerfile, "Dockerfile")
    assert facts.module == "app" and facts.port == PORT
    assert routes_to_probe(facts) == ["/health", "/healthz", "/ping", "/ready", "/status", "/about", "/visits", "/"]
    assert routes_to_probe(None) == list(verify_mod.HEALTH_ROUTES)
    assert verify_mod.app_ports([8000], facts) == [PORT, 8000]
    guessed = AppFacts(port=8000, port_source="server-default")  # gunicorn with no --bind: a guess
    assert verify_mod.app_ports([5000], guessed) == [5000] and verify_mod.app_ports([], guessed) == [8000]
    assert verify_app._is_parameterless("/api/v1/items/")
    for path in ("/items/{item_id}", "/items/<int:id>", "^api/$", "/files/*", "items/"):
        assert not verify_app._is_parameterless(path), path


def test_python_of_the_command():
    assert verify_app._python_of({"Cmd": ["/opt/venv/bin/gunicorn", "app:app"]}) == "/opt/venv/bin/python"
    assert verify_app._python_of({"Cmd": ["python3.12", "main.py"]}) == "python3.12"
    assert verify_app._python_of({"Cmd": ["/bin/sh", "-c", "exec /venv/bin/uvicorn a:app"]}) == "/venv/bin/python"
    assert verify_app._python_of({"Cmd": ["/usr/local/bin/gunicorn", "app:app"]}) == "python"
    assert verify_app._python_of({}) == "python"


class _Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(10)  # a page waiting on a database that is not there
        self.send_response(200 if self.path in ("/", "/slow") else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_route_that_hangs_does_not_hold_the_others():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        start = time.monotonic()
        probed, statuses, unanswered = probe_routes(server.server_port, ["/slow", "/", "/missing"], timeout=0.5)
        assert time.monotonic() - start < 3
        assert probed == ["/slow", "/", "/missing"]
        assert statuses == {"/": 200, "/missing": 404} and unanswered == {"/slow": "timeout"}
        # a budget spent leaves the remaining routes unprobed, not "no answer"
        probed, statuses, _ = probe_routes(server.server_port, ["/slow", "/"], timeout=0.5, budget=0.2)
        assert probed == ["/slow"] and statuses == {}
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as closed:  # nothing listens: no answer, at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert probe_routes(port, ["/"], timeout=2)[2] == {"/": "no answer"}


# ---------------------------------------------------------------------------------------------- real build


def table(stdout: str) -> dict[str, list[str]]:
    """The rows of the text table: label -> [original, rewrite]."""
    rows = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) == 3 and cells[0]:
            rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.build
def test_flask_app_whose_root_waits_on_a_database(tmp_path, env):  # noqa: F811
    """The variant that logs to /var/log answers 200 as root and 500 as the rewrite's user: exit 1, naming
    the route, though /health answers 200 in both and `/` answers in neither (today's verify saw only
    that, and passed); the app without that route verifies, with every route in the table."""
    env = {**env, "PYTHONPATH": str(ROOT), "COLUMNS": "140"}
    podman = Engine.find("podman", env=env)
    deps = f"localhost/dfix-test-routes-{uuid.uuid4().hex[:10]}:deps"
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "Dockerfile").write_text(f"FROM python:3.12-slim\nRUN {DEPENDENCIES}\n")

    def dfix_verify(app: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "dfix", "verify", str(app)], capture_output=True,
                              text=True, env=env, check=False, timeout=900)

    try:
        built, _, log = podman.build(tmp_path / "deps" / "Dockerfile", tmp_path / "deps", deps)
        assert built, log

        proc = dfix_verify(flask_app(tmp_path / "visits", visits=True, deps=deps))
        assert proc.returncode == 1, proc.stderr + proc.stdout
        worse = [line for line in proc.stdout.splitlines() if line.startswith("worse: ")]
        assert worse == ["worse: GET /visits: the original answers 200, the rewrite 500"], proc.stdout
        rows = table(proc.stdout)
        assert rows["answers"] == ["200 /health", "200 /health"]  # what today's verify compared, alike
        assert rows["GET /visits"] == ["200", "500"] and rows["GET /"] == ["timeout", "timeout"]

        proc = dfix_verify(flask_app(tmp_path / "shop", visits=False, deps=deps))
        assert proc.returncode == 0, proc.stderr + proc.stdout
        rows = table(proc.stdout)
        routes = [label for label in rows if label.startswith("GET ")]
        assert routes == ["GET /health", "GET /healthz", "GET /ping", "GET /ready", "GET /status", "GET /about", "GET /"]
        assert rows["GET /health"] == rows["GET /about"] == ["200", "200"]
        assert rows["GET /ping"] == ["404", "404"] and rows["GET /"] == ["timeout", "timeout"]
        assert rows["running after the probes"] == ["yes", "yes"] and rows["imports app"] == ["yes", "yes"]
        assert rows["user"][1] == "10001, uid 10001"
        assert "worse:" not in proc.stdout and "verified: the rewrite builds" in proc.stdout
    finally:
        podman.remove_image(deps)
