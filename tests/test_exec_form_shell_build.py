"""DF503 and DF204 for real: one small image, built before and after dfix. The command keeps the argv the shell
form stored (apart from the `exec`), the server it starts is PID 1 with the environment variable expanded, the
RUN that used `cd` ran in the same directory, and the image's working directory is the same."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from .conftest import ROOT
from .test_verify_build import podman_build, env, listing, podman  # noqa: F401  (session fixtures: the engine)

BEFORE = """\
FROM debian:bookworm-slim
ENV WORKERS=3
WORKDIR /app
RUN cd /var/lib && touch marker
CMD test -f /var/lib/marker && sleep $((WORKERS * 100))
"""


def _dfix(text: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "dfix", "-", "--select", "DF503,DF204"], input=text,
                          capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.build
def test_the_server_is_pid_1_with_the_same_command_and_directories(podman, tmp_path):  # noqa: F811
    after = _dfix(BEFORE)
    assert 'CMD ["/bin/sh", "-c", "test -f /var/lib/marker && exec sleep $((WORKERS * 100))"]' in after
    assert "WORKDIR /var/lib\nRUN touch marker\nWORKDIR /app\n" in after
    seen = {}
    for name, text in (("before", BEFORE), ("after", after)):
        (tmp_path / f"{name}.Dockerfile").write_text(text)
        tag = f"localhost/dfix-exec-shell-{uuid.uuid4().hex[:8]}:{name}"
        container = f"dfix-exec-shell-{uuid.uuid4().hex[:8]}"
        build = podman_build(podman, "--format", "docker", "--pull=never", "-q", "-f",
                             str(tmp_path / f"{name}.Dockerfile"), "-t", tag, str(tmp_path))
        assert build.returncode == 0, build.stderr
        try:
            config = json.loads(listing(podman, "image", "inspect", tag))[0]["Config"]
            run = subprocess.run([podman.path, "run", "-d", "--name", container, tag],
                                 env=podman.env, capture_output=True, text=True, timeout=60)
            assert run.returncode == 0, run.stderr
            # the CMD's `test -f` passed (the container still runs): the RUN made the marker where it did before
            pid1 = subprocess.run([podman.path, "exec", container, "cat", "/proc/1/cmdline"],
                                  env=podman.env, capture_output=True, timeout=60)
            assert pid1.returncode == 0, pid1.stderr
        finally:
            subprocess.run([podman.path, "rm", "-f", "-t", "0", container], env=podman.env, capture_output=True)
            subprocess.run([podman.path, "rmi", tag], env=podman.env, capture_output=True)
        seen[name] = (config.get("Entrypoint"), config.get("Cmd"), config.get("WorkingDir"),
                      pid1.stdout.split(b"\0")[:-1])
    entry, cmd, workdir, pid1 = seen["before"]
    assert cmd == ["/bin/sh", "-c", "test -f /var/lib/marker && sleep $((WORKERS * 100))"]
    assert pid1[0] == b"/bin/sh"  # the shell form: the shell is PID 1 and the server its child
    assert seen["after"] == (entry, [cmd[0], cmd[1], cmd[2].replace("&& sleep", "&& exec sleep")], workdir,
                             [b"sleep", b"300"])
    assert workdir == "/app"
