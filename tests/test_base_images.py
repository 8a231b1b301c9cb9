"""The base-image table (issue 16): every row names its source, the rules read their base facts from it,
and where the table does not know the base, the Dockerfile's own package manager shows its family."""

from __future__ import annotations

import subprocess

import pytest

from dfix import base_images
from dfix.context import BuildContext
from dfix.engine import Options, fix_text

from .test_verify_build import env, listing, podman  # noqa: F401  (session fixtures: the engine)


def _df302(tmp_path, text: str, files: dict[str, str] | None = None):
    for name, body in (files or {}).items():
        (tmp_path / name).write_text(body)
    (tmp_path / "Dockerfile").write_text(text)
    result = fix_text(text, str(tmp_path / "Dockerfile"), Options(select=frozenset({"DF302"}), unsafe_fixes=True),
                      context=BuildContext(tmp_path))
    applied = [f for f in result.applied if f.code == "DF302"]
    reported = [f for f in result.remaining if f.code == "DF302"]
    return result, applied, reported


def test_every_row_names_its_source_and_known_fields():
    rows = base_images.table()["images"]
    facts_rows = {name: row for name, row in rows.items() if set(row) - {"tags", "lines", "release", "note"}}
    assert len(facts_rows) >= 30
    for name, row in facts_rows.items():
        assert row.get("source"), f"{name} names no source"
        for key in set(row) - {"tags", "lines", "release", "note", "variants"}:
            assert key in base_images._FIELDS, f"{name}: unknown fact {key}"


def test_the_compiled_table_is_the_toml_as_it_is_now(tmp_path, monkeypatch):
    from dfix import _base_images_table as compiled

    text = base_images.SOURCE.read_text("utf-8")
    assert compiled.TABLE == base_images.parse(text), "stale: run python scripts/compile_base_table.py"
    assert base_images.table() is compiled.TABLE
    # an edited TOML that was not compiled again is read from the TOML itself, never from the stale copy
    edited = tmp_path / "base_images.toml"
    edited.write_text(text.replace('[images.python]', '[images.python]\nnote = "edited"', 1), encoding="utf-8")
    monkeypatch.setattr(base_images, "SOURCE", edited)
    base_images.table.cache_clear()
    try:
        assert base_images.table()["images"]["python"]["note"] == "edited"
    finally:
        monkeypatch.undo()
        base_images.table.cache_clear()


@pytest.mark.parametrize("image, os, tool, uid, workdir, python", [
    ("python:3.12-slim", "debian", "useradd", 0, "/", True),
    ("docker.io/library/python:3.12-alpine", "alpine", "adduser", 0, "/", True),
    ("tiangolo/uvicorn-gunicorn-fastapi:python3.9", "debian", "useradd", 0, "/app", True),
    ("pypy:3.11", "debian", "useradd", 0, "/", True),
    ("continuumio/miniconda3", "debian", "useradd", 0, "/", True),
    ("pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime", "ubuntu", "useradd", 0, "/workspace", True),
    ("ghcr.io/astral-sh/uv:debian-slim", "debian", "useradd", 0, "/", False),
    ("ghcr.io/astral-sh/uv:python3.12-bookworm-slim", "debian", "useradd", 0, "/", True),
    ("nginx/unit:1.34.1-python3.13", "debian", "useradd", 0, "/", True),
    ("quay.io/jupyterhub/jupyterhub:5", "ubuntu", "useradd", 0, "/srv/jupyterhub", False),
    ("apache/beam_python3.9_sdk:2.50.0", "debian", "useradd", 0, None, True),
    ("quay.io/jupyter/scipy-notebook:2024-10-07", "ubuntu", "useradd", 1000, "/home/jovyan", True),
    ("langchain/langchain", "debian", "useradd", 0, None, True),
    ("gcr.io/distroless/python3-debian12:nonroot", "distroless", "none", 65532, "/", False),
    ("registry.access.redhat.com/ubi9/ubi-minimal:9.4", "rhel", "none", 0, "/", False),
    ("amazonlinux:2023", "rhel", "none", 0, "/", False),
])
def test_rows(image, os, tool, uid, workdir, python):
    facts = base_images.facts(image)
    assert (facts.os, facts.user_tool, facts.uid, facts.workdir, facts.python) == (os, tool, uid, workdir, python)


def test_unknown_base_is_unknown():
    assert not base_images.facts("mycorp/base:1").known


# -- DF302 reads the table -------------------------------------------------------------------------

def test_jupyter_stack_from_arg_default_is_not_root(tmp_path):
    text = ("ARG BASE_IMAGE=quay.io/jupyter/minimal-notebook\nFROM $BASE_IMAGE\n"
            "COPY --chown=${NB_UID}:${NB_GID} requirements.txt /tmp/\n"
            "RUN pip install --no-cache-dir -r /tmp/requirements.txt\n")
    _, applied, reported = _df302(tmp_path, text, {"requirements.txt": "pandas\n"})
    assert applied == [] and reported == []


def test_jupyter_stack_left_as_root_is_told_to_switch_back(tmp_path):
    text = ("FROM quay.io/jupyter/scipy-notebook:2024-10-07\nUSER root\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg\n")
    _, applied, reported = _df302(tmp_path, text)
    assert not applied and "jovyan" in reported[0].reason


@pytest.mark.parametrize("base", [
    "pypy:3.11", "continuumio/miniconda3", "pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime",
    "langchain/langchain", "ghcr.io/astral-sh/uv:python3.12-bookworm-slim",
])
def test_known_family_gets_a_user(tmp_path, base):
    text = (f"FROM {base}\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
            "COPY . .\nCMD [\"python\", \"main.py\"]\n")
    result, applied, reported = _df302(tmp_path, text, {"requirements.txt": "flask\n", "main.py": "print(1)\n"})
    assert reported == [] and applied, [f.reason for f in reported]
    assert "useradd --system --uid 10001" in result.fixed and "USER 10001" in result.fixed


def test_apt_get_in_the_file_shows_debian_on_an_unknown_base(tmp_path):
    text = ("FROM mycorp/python-base:3.11 AS base\nRUN apt-get update && apt-get install -y --no-install-recommends libpq5\n"
            "FROM base\nWORKDIR /srv\nCOPY . .\nCMD [\"python3\", \"-m\", \"srv\"]\n")
    result, applied, reported = _df302(tmp_path, text)
    assert applied and "useradd" in result.fixed.split("FROM base")[1]


def test_servers_the_base_starts_as_root_are_reported_with_why(tmp_path):
    for base, words in [("tiangolo/uvicorn-gunicorn-fastapi:python3.9", "port 80"),
                        ("nginx/unit:1.34.1-python3.13", "unitd"),
                        ("apache/beam_python3.9_sdk:2.50.0", "staged packages")]:
        text = f"FROM {base}\nCOPY ./app /app\nRUN pip install --no-cache-dir -r /app/requirements.txt\n"
        _, applied, reported = _df302(tmp_path, text)
        assert not applied and words in reported[0].reason, reported[0].reason


def test_own_command_replaces_the_base_servers(tmp_path):
    text = ("FROM tiangolo/uvicorn-gunicorn-fastapi:python3.9\nCOPY ./app /app\n"
            "RUN pip install --no-cache-dir -r /app/requirements.txt\n"
            "CMD [\"uvicorn\", \"main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"8000\"]\n")
    _, applied, reported = _df302(tmp_path, text)
    assert applied and not reported


def test_app_image_without_cmd_gets_a_user(tmp_path):
    text = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n")
    result, applied, reported = _df302(tmp_path, text, {"requirements.txt": "celery\n"})
    assert applied and not reported and result.fixed.rstrip().endswith("USER 10001")


def test_base_image_without_cmd_stays_reported(tmp_path):
    text = "FROM python:3.12-slim\nRUN pip install --no-cache-dir poetry\n"
    _, applied, reported = _df302(tmp_path, text)
    assert not applied and "base image" in reported[0].reason


# -- minimal RHEL-family bases: shadow-utils installed where the package manager is proven -------------

@pytest.mark.parametrize("base, first", [
    ("registry.access.redhat.com/ubi9/ubi-minimal:9.4", "microdnf install -y shadow-utils && microdnf clean all && "),
    ("amazonlinux:2", "yum install -y shadow-utils && yum clean all && "),
    ("amazonlinux:2023", "dnf install -y shadow-utils && dnf clean all && "),
    ("public.ecr.aws/amazonlinux/amazonlinux:2023", "dnf install -y shadow-utils && dnf clean all && "),
])
def test_minimal_rhel_base_gets_shadow_utils_from_the_tables_package_manager(tmp_path, base, first):
    text = f"FROM {base}\nCOPY server.py /opt/app/\nCMD [\"python3\", \"/opt/app/server.py\"]\n"
    result, applied, reported = _df302(tmp_path, text, {"server.py": "print(1)\n"})
    assert applied and not reported, [f.reason for f in reported]
    assert result.fixed.splitlines()[1] == (f"RUN {first}groupadd --system --gid 10001 app && "
                                            "useradd --system --uid 10001 --gid 10001 --create-home app")


def test_microdnf_in_the_file_shows_a_minimal_base_and_installs_with_it(tmp_path):
    # the name hint says useradd (rockylinux), but microdnf is the minimal images' package manager
    text = ("FROM rockylinux:9.3\nRUN microdnf install -y python3 && microdnf clean all\n"
            "COPY server.py /srv/\nCMD [\"python3\", \"/srv/server.py\"]\n")
    result, applied, _ = _df302(tmp_path, text, {"server.py": "print(1)\n"})
    assert applied and result.fixed.splitlines()[1].startswith("RUN microdnf install -y shadow-utils && microdnf clean all && groupadd")


def test_full_rhel_base_is_not_given_shadow_utils_again(tmp_path):
    for base in ("registry.access.redhat.com/ubi9/ubi:9.4", "rockylinux:9"):
        text = f"FROM {base}\nRUN dnf install -y python3 && dnf clean all\nCMD [\"python3\", \"-m\", \"http.server\"]\n"
        result, applied, _ = _df302(tmp_path, text)
        assert applied and result.fixed.splitlines()[1].startswith("RUN groupadd --system"), result.fixed


def test_minimal_base_without_a_package_manager_is_reported(tmp_path):
    text = "FROM registry.access.redhat.com/ubi9/ubi-micro:9.4\nCOPY app /app\nCMD [\"/app/server\"]\n"
    _, applied, reported = _df302(tmp_path, text)
    assert not applied and "no package manager is known to install shadow-utils" in reported[0].reason


def test_the_contract_counts_only_a_lone_shadow_utils_install_as_user_creation(tmp_path):
    # a shadow-utils install that also installs the app's packages is the app's, not the user's
    from dfix.contract import _installs_user_tools
    assert _installs_user_tools(("microdnf", "install", "-y", "shadow-utils"))
    assert not _installs_user_tools(("microdnf", "install", "-y", "shadow-utils", "python3"))
    assert not _installs_user_tools(("apt-get", "install", "-y", "shadow-utils"))


# -- the table against the stand-in images that exist here -----------------------------------------

@pytest.mark.build
def test_rows_hold_for_the_standin_images(podman):  # noqa: F811
    """One container per image: uid, the user tool, python and venv; WORKDIR from inspect."""

    def _podman(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([podman.path, *args], env=podman.env, capture_output=True, text=True, timeout=120)

    present = set(listing(podman, "images", "--format", "{{.Repository}}:{{.Tag}}").split())
    wanted = ["docker.io/library/python:3.12-slim", "docker.io/library/python:3.12-bookworm",
              "docker.io/library/debian:bookworm-slim", "docker.io/library/debian:bookworm"]
    images = [i for i in wanted if i in present]
    assert images, f"none of the stand-ins {wanted} in the engine"
    probe = ('id -u; command -v useradd >/dev/null && echo useradd || '
             '(command -v adduser >/dev/null && echo adduser || echo none); '
             'if python -c "import venv, ensurepip" 2>/dev/null && python -m venv /tmp/v >/dev/null 2>&1; '
             'then echo venv; elif command -v python >/dev/null; then echo python; else echo nopython; fi')
    for image in images:
        facts = base_images.facts(image)
        out = _podman("run", "--rm", image, "sh", "-c", probe)
        assert out.returncode == 0, out.stderr
        uid, tool, py = out.stdout.split()
        assert int(uid) == facts.uid, image
        assert tool == facts.user_tool, image
        assert py == ("venv" if facts.venv else "python" if facts.python else "nopython"), image
        inspect = _podman("image", "inspect", "--format", "{{.Config.WorkingDir}}", image)
        assert (inspect.stdout.strip() or "/") == facts.workdir, image


# -- DF403 reads the table -------------------------------------------------------------------------

def _df403(tmp_path, base: str):
    text = (f"FROM {base}\nWORKDIR /app\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends gcc build-essential "
            "&& rm -rf /var/lib/apt/lists/*\n"
            "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
            "COPY . .\nCMD [\"python\", \"main.py\"]\n")
    (tmp_path / "requirements.txt").write_text("numpy\n")
    result = fix_text(text, str(tmp_path / "Dockerfile"), Options(select=frozenset({"DF403"}), unsafe_fixes=True),
                      context=BuildContext(tmp_path))
    return result


def test_builder_on_a_python_based_image_the_table_knows(tmp_path):
    result = _df403(tmp_path, "langchain/langchain")
    assert [f.code for f in result.applied] == ["DF403"], [f.reason for f in result.remaining]
    assert result.fixed.startswith("FROM langchain/langchain AS builder\n")
    assert "RUN python -m venv /opt/venv" in result.fixed


def test_builder_not_assumed_on_a_base_without_venv(tmp_path):
    result = _df403(tmp_path, "mycorp/base:1")
    assert not result.applied
    assert any("not a python image" in (f.reason or "") for f in result.remaining)


# -- DF201: a WORKDIR given by an ENV with a literal value -----------------------------------------

def test_workdir_from_a_literal_env_is_resolved(tmp_path):
    (tmp_path / "requirements.txt").write_text("flask\n")
    text = ("FROM python:3.12-slim\nENV APP_HOME /app\nWORKDIR $APP_HOME\nCOPY . .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"main.py\"]\n")
    result = fix_text(text, str(tmp_path / "Dockerfile"), Options(select=frozenset({"DF201"})),
                      context=BuildContext(tmp_path))
    assert [f.code for f in result.applied] == ["DF201"], [f.reason for f in result.remaining]
    assert result.fixed.index("COPY requirements.txt") < result.fixed.index("COPY . .")


def test_workdir_from_an_arg_stays_unknown(tmp_path):
    (tmp_path / "requirements.txt").write_text("flask\n")
    text = ("FROM python:3.12-slim\nARG APP_HOME=/app\nWORKDIR $APP_HOME\nCOPY . .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"main.py\"]\n")
    result = fix_text(text, str(tmp_path / "Dockerfile"), Options(select=frozenset({"DF201"})),
                      context=BuildContext(tmp_path))
    assert not result.applied and "variable" in result.remaining[0].reason
