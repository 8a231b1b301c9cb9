"""DF302's user, for real: the ids the rewrite writes (`COPY --chown=10001:10001`, `chown 10001:10001`) must
name a user and a group that exist in the built image. `useradd --system --user-group` gives the group a
system gid (999), so 10001 was a group nobody had.

Needs the engine scripts/setup-engine.sh installs (podman, local stand-in bases); one small build, no network.
"""

from __future__ import annotations

import uuid

import pytest

from .test_cli import dfix
from .test_verify_build import env, podman  # noqa: F401  (session fixtures: the engine)

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY app.py .
CMD ["python", "app.py"]
"""


@pytest.mark.build
def test_rewritten_image_has_the_user_and_group_its_ids_name(tmp_path, podman):  # noqa: F811
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    proc = dfix("--write", "--select", "DF302", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "Dockerfile").read_text()
    assert "COPY --chown=10001:10001 app.py ." in text and "USER 10001" in text

    tag = f"localhost/dfix-test-df302-{uuid.uuid4().hex[:12]}"
    ok, _, tail = podman.build(tmp_path / "Dockerfile", tmp_path, tag)
    assert ok, tail
    try:
        run = podman._run(["run", "--rm", tag, "sh", "-c", "id; stat -c '%u:%g %U:%G' /app /app/app.py"])
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert lines[0] == "uid=10001(app) gid=10001(app) groups=10001(app)"
        # the numeric owners dfix wrote resolve to the user and its group, not an unnamed gid
        assert lines[1:] == ["10001:10001 app:app", "10001:10001 app:app"]
    finally:
        podman._run(["rmi", "-f", tag])
