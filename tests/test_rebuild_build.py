"""Issue 12 item 7: the rebuild cost of DF403's split. After an app edit, a rewrite must redo only the app
copy and the cheap steps after it: the runtime's copy of the environment from the builder comes before the
app copy wherever nothing can bring a .venv of the context's own into it, so the layer cache keeps it.

The first tests read dfix's output; the build test builds it with podman, edits the app and rebuilds.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from dfix.context import BuildContext
from dfix.engine import Options, fix_text

from .conftest import ROOT
from .test_verify_build import env, podman  # noqa: F401 (fixtures)

# a uv application as `uv init --app` makes it: no build system, so uv installs no project of its own and
# the environment does not change when only the app does; libffi-dev is a small build package for DF403
PYPROJECT = '[project]\nname = "rebuild-probe"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = []\n'
SERVER = ('import http.server\n'
          'http.server.HTTPServer(("", 8093), http.server.SimpleHTTPRequestHandler).serve_forever()\n')
DOCKERFILE = (
    "FROM python:3.12-slim-bookworm\n"
    "RUN apt-get update && apt-get install -y libffi-dev\n"
    "RUN pip install uv==0.5.11\n"
    "WORKDIR /app\n"
    "COPY . .\n"
    "RUN uv sync --no-dev\n"
    "EXPOSE 8093\n"
    'CMD ["/app/.venv/bin/python", "server.py"]\n'
)
ENV_COPY = "COPY --from=builder /app/.venv /app/.venv"


def uv_app(path: Path, dockerignore: str | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "pyproject.toml").write_text(PYPROJECT)
    (path / "server.py").write_text(SERVER)
    (path / "Dockerfile").write_text(DOCKERFILE)
    if dockerignore is not None:
        (path / ".dockerignore").write_text(dockerignore)
    return path


def runtime_lines(app: Path, dockerfile: str = DOCKERFILE) -> list[str]:
    # DF201 first installs the dependencies from the manifest alone, before the app copy
    result = fix_text(dockerfile, str(app / "Dockerfile"), Options(select=frozenset({"DF201", "DF403"})),
                      context=BuildContext(app, dockerfile="Dockerfile"))
    assert result.error is None and "DF403" in {f.code for f in result.applied}, result.withheld
    text = result.fixed
    return text[text.rindex("\nFROM "):].strip().splitlines()


def test_environment_copied_before_the_app_when_the_ignore_file_keeps_the_contexts_out(tmp_path):
    lines = runtime_lines(uv_app(tmp_path / "app", ".git\n.venv/\n!.env.example\n"))
    assert lines.index(ENV_COPY) < lines.index("COPY . ."), lines


@pytest.mark.parametrize("dockerignore", [
    None,  # a developer's local .venv would be copied over the builder's
    ".git\n",  # an ignore file that does not name it
    ".venv\n!.venv/bin\n",  # ... or brings part of it back
    ".venv\n!**/keep\n",
])
def test_environment_copied_after_the_app_when_the_context_may_bring_one(tmp_path, dockerignore):
    lines = runtime_lines(uv_app(tmp_path / "app", dockerignore))
    assert lines.index(ENV_COPY) > lines.index("COPY . ."), lines


def test_a_copy_into_the_environment_between_the_installs_keeps_it_after(tmp_path):
    app = uv_app(tmp_path / "app", ".venv\n")
    (app / "extra.pth").write_text("/app/src\n")
    dockerfile = DOCKERFILE.replace("COPY . .\n", "COPY . .\nCOPY extra.pth .venv/lib/\n")
    lines = runtime_lines(app, dockerfile)
    assert lines.index(ENV_COPY) > lines.index("COPY extra.pth .venv/lib/"), lines


def _stages(steps: list) -> list[list]:
    stages: list[list] = []
    for instruction, cached in steps:
        if instruction.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append((instruction, cached))
    return stages


@pytest.mark.build
def test_rebuild_after_an_app_edit_redoes_only_the_app_copy_and_what_follows(tmp_path, podman):  # noqa: F811
    app = uv_app(tmp_path / "app")
    # the CLI, as a user runs it: it writes the Dockerfile and the .dockerignore the build then reads
    proc = subprocess.run([sys.executable, "-m", "dfix", "--write", str(app)], capture_output=True, text=True,
                          env={**podman.env, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (app / ".dockerignore").is_file()
    tag = f"localhost/dfix-test-rebuild-{uuid.uuid4().hex[:12]}:rewrite"
    try:
        ok, _, tail = podman.build(app / "Dockerfile", app, tag)
        assert ok, tail
        server = app / "server.py"
        server.write_text(server.read_text() + f"# edited {uuid.uuid4().hex}\n")
        ok, _, tail = podman.build(app / "Dockerfile", app, tag)
        assert ok, tail
        builder, runtime = _stages(podman.last_steps)
        assert builder[0][0].endswith("AS builder"), podman.last_steps
        app_copy = next(i for i, (step, _) in enumerate(runtime) if step.startswith("COPY") and " . " in f"{step} ")
        # everything before the app copy, the environment from the builder included, comes from the cache
        assert all(cached for _, cached in runtime[1:app_copy]), runtime
        assert any(step.startswith(ENV_COPY) for step, _ in runtime[1:app_copy]), runtime
        # after it only instructions that write no files: no RUN, no copy of the environment again
        assert not [step for step, _ in runtime[app_copy + 1:] if step.split()[0] in ("RUN", "COPY", "ADD")], runtime
        # the builder reruns only from its own app copy on (uv sync installs the project, as the original did)
        builder_copy = next(i for i, (step, _) in enumerate(builder) if step.startswith("COPY") and " . " in f"{step} ")
        assert all(cached for _, cached in builder[1:builder_copy]), builder
        # and the image still runs its environment's Python
        probe = subprocess.run([podman.path, "run", "--rm", "--pull=never", "--network", "host", tag,
                                "/app/.venv/bin/python", "-c", "import sys; print(sys.prefix)"],
                               env=podman.env, capture_output=True, text=True, timeout=120)
        assert probe.stdout.strip() == "/app/.venv", probe.stderr
    finally:
        podman.remove_image(tag)
