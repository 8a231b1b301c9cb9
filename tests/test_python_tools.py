"""What DF403 reads to leave a packaging tool in the builder: which `pip install` installs only a tool,
which modules the app imports, and which distributions its lock files and manifests name."""

from __future__ import annotations

import json

import pytest

from dfix.context import BuildContext
from dfix.context.python import declared_distributions, imported_top_level_modules
from dfix.rules._python_tools import distribution_name, undeclared_tool_imports


@pytest.mark.parametrize(("operand", "name"), [
    ("poetry==1.8.4", "poetry"), ("Poetry_Core>=1", "poetry-core"), ("uv[extra]>=0.5", "uv"),
    ("pipenv", "pipenv"), ("poetry @ https://example.com/p.whl", "poetry"), ("./local", None), ("", None),
])
def test_distribution_name(operand, name):
    assert distribution_name(operand) == name


def test_imports_are_read_from_every_app_file_but_not_from_environments(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text(
        "import os, requests.adapters as ra\nfrom packaging.version import Version\n"
        "    import yaml  # inside a function\nfrom . import sibling\n# import commented\nx = 'import no'\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "site.py").write_text("import virtualenv\n")
    modules = imported_top_level_modules(BuildContext(tmp_path))
    assert modules == {"os", "requests", "packaging", "yaml"}


def test_pending_file_changes_are_read(tmp_path):
    (tmp_path / "app.py").write_text("import requests\n")
    context = BuildContext(tmp_path).with_changes({"app.py": "import httpx\n"})
    assert imported_top_level_modules(context) == {"httpx"}


def test_declared_distributions_from_locks_and_manifests(tmp_path):
    (tmp_path / "poetry.lock").write_text('[[package]]\nname = "Requests"\nversion = "2.32.3"\n')
    (tmp_path / "Pipfile.lock").write_text(json.dumps({"default": {"charset_normalizer": {}}, "develop": {"pytest": {}}}))
    (tmp_path / "pyproject.toml").write_text(
        '[project]\ndependencies = ["packaging>=24", "Flask[async]==3.1"]\n'
        '[tool.poetry.group.dev.dependencies]\nmypy = "*"\n')
    assert declared_distributions(BuildContext(tmp_path)) == {
        "requests", "charset-normalizer", "pytest", "packaging", "flask", "mypy"}


def test_undeclared_tool_imports():
    imported = frozenset({"requests", "packaging", "flask", "pkg_resources"})
    assert undeclared_tool_imports("poetry", imported, {"requests"}) == ["packaging"]
    assert undeclared_tool_imports("pipenv", imported, set()) == ["packaging", "pkg_resources"]
    assert undeclared_tool_imports("uv", imported, set()) == []


@pytest.mark.parametrize(("run", "made"), [
    ("RUN uv sync --frozen --no-dev", {".venv"}),
    ("RUN uv --directory=x --no-cache sync", {".venv"}),
    ("RUN python3 -m venv --copies .venv && .venv/bin/pip install x", {".venv"}),
    ("RUN uv venv --seed venv2", {"venv2"}),
    ("RUN virtualenv env", {"env"}),  # names neither uv nor venv: the quick test before the patterns must let it by
    ("RUN poetry config virtualenvs.in-project true && poetry install", {".venv"}),
    ("RUN python -m venv /opt/venv", set()),  # elsewhere than the context's copy
    ("RUN pip install -r requirements.txt", set()),
    # many options and no match: a pattern that can split `--x` two ways backtracks for minutes here
    ("RUN uv " + " ".join(f"--opt-{i}" for i in range(64)) + " run app", set()),
    ("RUN virtualenv " + " ".join(f"--opt-{i}=a" for i in range(64)) + " |", set()),
])
def test_virtualenvs_a_run_makes(run, made):
    from dfix.rules.dockerignore import _environments_made

    assert _environments_made(run) == made


def test_import_pattern_on_a_long_dotted_line():
    from dfix.context.python import _IMPORT

    line = "from " + "a" * 20000 + "." + "b" * 20000 + " import x\n"
    assert [m.group(1) for m in _IMPORT.finditer(line)] == ["a" * 20000]
    assert not list(_IMPORT.finditer("from " + "a" * 20000 + "\n"))
