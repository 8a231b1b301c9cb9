"""DF302: a daemon that must start as root (nginx, supervisord, cron, …) is as much the image's command
behind an init wrapper (`tini --`, dumb-init) or an entrypoint script given it as its CMD (`exec "$@"`) as
in first place. dfix used to make such images run as uid 10001, where nginx cannot write its pid and
temp folders; it reports them, with the daemon's reason, as it does for a bare `nginx`."""

from __future__ import annotations

import json
import shutil

from .conftest import FIXTURES
from .test_cli import dfix

CASES = {
    "entrypoint-hands-over-to-daemon-reported": "supervisord",
    "init-wrapper-starts-daemon-reported": "nginx",
}


def _run(tmp_path, case: str) -> dict:
    """dfix on the case's Dockerfile in a copy of its folder (the build context)."""
    folder = tmp_path / case
    shutil.copytree(FIXTURES / "non-root-user" / case, folder)
    (folder / "before.Dockerfile").rename(folder / "Dockerfile")
    (folder / "after.Dockerfile").unlink()
    proc = dfix("--format", "json", "--select", "DF302", folder / "Dockerfile")
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)["files"]
    return result


def test_a_daemon_behind_an_entrypoint_or_init_wrapper_keeps_root(tmp_path):
    for case, daemon in CASES.items():
        result = _run(tmp_path, case)
        assert not result["applied"], case
        (reported,) = [r for r in result["reported"] if r["code"] == "DF302"]
        assert reported["reason"] == f"{daemon} expects to start as root (privileged port, its own user switch, system folders)"


def test_the_entrypoint_script_alone_still_gets_a_user(tmp_path):
    # the script hands over to a Python app, not a daemon: the plain entrypoint case is still fixed
    assert [r["code"] for r in _run(tmp_path, "entrypoint-script-plain")["applied"]] == ["DF302"]
