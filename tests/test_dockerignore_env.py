"""DF601 and the files an app reads at run time, for real: folders on disk, the CLI run as a subprocess, and
what the build is sent decided by docker-py's `exclude_paths` (Docker's own client), not by dfix's matcher.

An app that calls python-dotenv's load_dotenv() reads .env when the container starts. A committed .env that
`COPY . .` puts in the image is part of the app: hiding it breaks the app. A .env that is not committed (git
ignores it, or there is none) is a developer's local file: it stays out, and the ignore file says why.
"""

from __future__ import annotations

from pathlib import Path

from .test_cli import dfix
from .test_dockerignore_oracle import _NO_DOCKERFILE, _patterns

DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n'
LOADS_DOTENV = 'import os\nfrom dotenv import load_dotenv\n\nload_dotenv()\nprint(os.environ["GREETING"])\n'


def _app(root: Path, files: dict[str, str]) -> Path:
    (root / ".git").mkdir()  # a checkout: the .gitignore search stops here
    for name, text in {"Dockerfile": DOCKERFILE, "requirements.txt": "python-dotenv\n", **files}.items():
        (root / name).write_text(text)
    proc = dfix("--write", "--select", "DF601", ".", cwd=root)
    assert proc.returncode == 0, proc.stderr
    return root


def _sent(root: Path) -> set[str]:
    from docker.utils.build import exclude_paths

    text = (root / ".dockerignore").read_text()
    return set(exclude_paths(str(root), _patterns(text), dockerfile=_NO_DOCKERFILE))


def _comments(root: Path) -> list[str]:
    return [line for line in (root / ".dockerignore").read_text().splitlines() if line.startswith("#")]


def test_committed_env_the_app_loads_is_sent_and_said(tmp_path):
    root = _app(tmp_path, {"app.py": LOADS_DOTENV, ".env": "GREETING=hello\n", ".env.local": "GREETING=mine\n"})
    sent = _sent(root)
    assert ".env" in sent, "the app loads .env at run time; hiding it breaks the app"
    assert ".env.local" not in sent, "a local variant is still a local secret"
    assert any(c.startswith("# .env stays: app.py loads it at run time") for c in _comments(root))


def test_git_ignored_env_is_a_local_file_and_stays_out_said(tmp_path):
    root = _app(tmp_path, {"app.py": LOADS_DOTENV, ".env": "GREETING=secret\n", ".gitignore": "/.env\n"})
    assert ".env" not in _sent(root)
    assert any("app.py loads one when present (git ignores it" in c for c in _comments(root))


def test_env_the_app_would_load_is_left_out_with_a_word_when_there_is_none(tmp_path):
    root = _app(tmp_path, {"app.py": LOADS_DOTENV})
    (root / ".env").write_text("GREETING=created later\n")  # what a developer's checkout grows
    assert ".env" not in _sent(root)
    assert any(c.startswith("# .env is left out though app.py loads one when present (there is none here)")
               for c in _comments(root))


def test_existing_ignore_file_gets_env_and_the_word_why(tmp_path):
    root = _app(tmp_path, {"app.py": LOADS_DOTENV, ".dockerignore": ".git\n.venv\n"})
    lines = (root / ".dockerignore").read_text().splitlines()
    assert lines[2] == "# added by dfix: never sent to the build"
    assert lines[3].startswith("# .env is left out though app.py loads one when present") and lines[4] == ".env"


def test_env_file_the_code_names_is_never_hidden(tmp_path):
    code = LOADS_DOTENV.replace("load_dotenv()", 'load_dotenv(".env.production")')
    root = _app(tmp_path, {"app.py": code, ".env.production": "GREETING=prod\n", ".env.staging": "X=1\n"})
    sent = _sent(root)
    assert ".env.production" in sent and ".env.staging" not in sent


def test_compose_default_names_are_not_sent(tmp_path):
    names = ["compose.yaml", "compose.yml", "compose.override.yaml", "docker-compose.yml", "docker-compose.yaml",
             "docker-compose.prod.yml"]
    compose = {name: "services: {}\n" for name in names}
    root = _app(tmp_path, {"app.py": "print('hi')\n", "requirements.txt": "flask\n", **compose})
    sent = _sent(root)
    assert [n for n in names if n in sent] == []
    assert "app.py" in sent


def test_env_variant_the_dockerfile_uses_is_sent(tmp_path):
    dockerfile = DOCKERFILE.replace("COPY . .\n", "COPY . .\nRUN cp .env.production .env\n")
    root = _app(tmp_path, {"Dockerfile": dockerfile, "app.py": "print('hi')\n", ".env.production": "X=1\n",
                           ".env.local": "X=2\n"})
    sent = _sent(root)
    assert ".env.production" in sent and ".env.local" not in sent
