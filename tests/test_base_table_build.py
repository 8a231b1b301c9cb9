"""Issue 16, for real: DF302 gives a working non-root user to images whose user tool it knows from the
base-image table or from the file itself, not from a `python:*` name:

- a Debian-family base without Python (`debian:bookworm-slim`) whose Dockerfile installs python3 with
  apt-get and serves a stdlib http.server app;
- an app image without CMD (it copies the app and installs its requirements; the command is given at
  `podman run`, as a compose file would give it).

For each, the original and dfix's rewrite (default fixes, `--write`) are built with podman on the stand-in
bases, run, and asked the same requests: the rewrite answers like the original and `id -u` is 10001.
One build per image, shared by every assertion; everything started is removed.
"""

from __future__ import annotations

import shutil
import socket
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .test_cli import dfix
from .test_verify_build import env, podman  # noqa: F401  (session fixtures: the engine)

SERVER = '''\
import http.server
import os
import pathlib

BODY = pathlib.Path(__file__).with_name("message.txt").read_bytes()  # the app reads its own files


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(BODY)
        else:
            self.send_response(404)
            self.end_headers()


http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
'''

CASES = {
    # Debian's own python3 from apt: only the table's Debian row and the file's apt-get say useradd is there
    "debian-apt": (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update\n"
        "RUN apt-get install -y python3\n"
        "WORKDIR /srv/app\n"
        "COPY server.py message.txt ./\n"
        "EXPOSE 8000\n"
        'CMD ["python3", "server.py"]\n',
        None,
    ),
    # no CMD or ENTRYPOINT: the command lives in a compose file; it copies its code and installs its requirements
    "no-cmd": (
        "FROM python:3.12-slim\n"
        "WORKDIR /app\n"
        "COPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\n"
        "COPY . .\n"
        "EXPOSE 8000\n",
        ["python", "server.py"],
    ),
}
ROUTES = ["/health", "/missing"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answer(port: int, route: str) -> tuple[int, bytes] | str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{route}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, b""
    except OSError as err:
        return f"no answer: {err}"


def _serve(podman, image: str, command: list[str] | None) -> dict:  # noqa: F811
    """Run the image (with the command a compose file would give), ask ROUTES, and `id -u` in it."""
    port = _free_port()
    run = podman._run(["run", "-d", "--pull=never", "--network", "host", "-e", f"PORT={port}", image,
                       *(command or [])])
    assert run.returncode == 0, run.stderr
    cid = run.stdout.strip().splitlines()[-1]
    try:
        deadline = time.monotonic() + 30
        while isinstance(_answer(port, "/health"), str) and time.monotonic() < deadline:
            time.sleep(0.3)
        answers = {route: _answer(port, route) for route in ROUTES}
        return {"answers": answers, "uid": podman.exec_id_u(cid), "running": podman.is_running(cid),
                "logs": podman.logs(cid)}
    finally:
        podman.remove_container(cid)


@pytest.fixture(scope="module", params=sorted(CASES))
def built(request, tmp_path_factory, podman):  # noqa: F811
    """The case's original and rewrite, each built once, run and probed; the images are removed after."""
    name = request.param
    dockerfile, command = CASES[name]
    original = tmp_path_factory.mktemp(f"{name}-original")
    (original / "Dockerfile").write_text(dockerfile)
    (original / "server.py").write_text(SERVER)
    (original / "message.txt").write_text(f"{name} is up\n")
    (original / "requirements.txt").write_text("six==1.16.0\n")
    rewrite = tmp_path_factory.mktemp(f"{name}-rewrite")
    shutil.copytree(original, rewrite, dirs_exist_ok=True)
    fixed = dfix("--write", "Dockerfile", cwd=rewrite)
    assert fixed.returncode == 0, fixed.stderr

    results = {"name": name, "original_text": dockerfile, "rewrite_text": (rewrite / "Dockerfile").read_text(),
               "report": fixed.stdout}
    tags = {which: f"localhost/dfix-test-base-table-{name}-{which}-{uuid.uuid4().hex[:8]}" for which in ("original", "rewrite")}
    contexts = {"original": original, "rewrite": rewrite}
    try:
        # the two builds wait on apt and PyPI more than on the CPU: side by side they take the time of the longer
        with ThreadPoolExecutor(2) as pool:
            builds = dict(zip(tags, pool.map(lambda which: podman.build(contexts[which] / "Dockerfile", contexts[which],
                                                                         tags[which]), tags)))
        for which, (ok, seconds, tail) in builds.items():
            assert ok, f"{which} of {name} does not build:\n{tail}"
            results[which] = {**_serve(podman, tags[which], command), "build_seconds": seconds}
            print(f"{name} {which}: built in {seconds} s")
        yield results
    finally:
        for tag in tags.values():
            podman.remove_image(tag)


@pytest.mark.build
def test_dfix_gives_the_image_a_user(built):
    text = built["rewrite_text"]
    assert "useradd --system --uid 10001" in text and text.rstrip().splitlines().count("USER 10001") == 1, text
    assert [line.endswith("[fixed]") for line in built["report"].splitlines() if " DF302 " in line] == [True]


@pytest.mark.build
def test_rewrite_answers_like_the_original(built):
    before, after = built["original"], built["rewrite"]
    assert before["answers"]["/health"] == (200, f"{built['name']} is up\n".encode()), before["logs"]
    assert after["answers"] == before["answers"], after["logs"]
    assert before["running"] and after["running"], after["logs"]


@pytest.mark.build
def test_rewrite_runs_as_the_user_dfix_made(built):
    assert built["original"]["uid"] == 0
    assert built["rewrite"]["uid"] == 10001
