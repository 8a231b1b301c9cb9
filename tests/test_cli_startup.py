"""`dfix --check FILE`, the pre-commit and editor line, starts without typer, rich or libcst, and says
exactly what the full command line reader (typer, commands.py) says for the same run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from .conftest import ROOT

FILE = ROOT / "fixtures" / "realworld" / "asterisk-voip-expose-ranges.Dockerfile"
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


CODE_READERS = {f"dfix.context.app.{name}" for name in
                ("analysis", "modules", "evaluate", "target", "routes", "values", "source", "reload", "frameworks")}


def _dfix(*args: str, importtime: bool = False, cwd=ROOT) -> subprocess.CompletedProcess:
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run([sys.executable, *flags, "-m", "dfix", *args], capture_output=True, text=True, cwd=cwd, env=ENV)


def test_one_file_check_imports_only_what_it_needs(tmp_path):
    # alone in a folder, as the benchmark runs it: inside this repository its pyproject.toml is config to read
    (tmp_path / "Dockerfile").write_bytes(FILE.read_bytes())
    proc = _dfix("--check", "Dockerfile", importtime=True, cwd=tmp_path)
    imported = _imported(proc)
    assert "dfix.engine" in imported and proc.returncode in (0, 1)
    heavy = {name for name in imported if name.split(".")[0] in ("typer", "click", "rich", "libcst")}
    assert not heavy, sorted(heavy)
    # nor what only other files need: TOML (config, pyproject, the base table's source), the Compose layer,
    # the framework tables of a Python app, the engine calls of --pin-digest, tar sniffing, sharding
    unneeded = {"tomllib", "tomli", "dfix.compose", "dfix.compose.document", "ruamel", "jsonschema",
                "dfix.context.app.frameworks", "subprocess", "tarfile", "hashlib"}
    assert not imported & unneeded, sorted(imported & unneeded)
    # the app reader reads the command, which runs asterisk, and stops there: no server's module is
    # loaded, nor the readers of Python code
    assert "dfix.context.app.command" in imported
    app_code = {name for name in imported if name.startswith("dfix.context.app.servers.") or name in CODE_READERS}
    assert not app_code, sorted(app_code)


def test_one_file_check_of_a_file_without_a_command_loads_no_app_reader(tmp_path):
    # the base image's command runs: there is no app of this file's to read
    text = (ROOT / "fixtures" / "realworld" / "docker-library-golang-alpine.Dockerfile").read_text(encoding="utf-8")
    assert "CMD" not in text and "ENTRYPOINT" not in text
    (tmp_path / "Dockerfile").write_text(text, encoding="utf-8")
    proc = _dfix("--check", "Dockerfile", importtime=True, cwd=tmp_path)
    imported = _imported(proc)
    assert "dfix.rules._app" in imported and proc.returncode in (0, 1)
    assert not {name for name in imported if name.startswith("dfix.context.app")}


def test_one_file_check_loads_only_the_server_its_command_names(tmp_path):
    shutil.copytree(ROOT / "examples" / "fastapi-naive", tmp_path, dirs_exist_ok=True)
    proc = _dfix("--check", "--format", "json", "Dockerfile", importtime=True, cwd=tmp_path)
    imported = _imported(proc)
    assert proc.returncode == 1 and '"DF' in proc.stdout  # its uvicorn --reload and more
    # uvicorn's app is read through the code readers; the other servers' modules stay on disk
    assert {"dfix.context.app.servers.uvicorn", "dfix.context.app.evaluate", "dfix.context.app.routes"} <= imported
    servers = {name for name in imported if name.startswith("dfix.context.app.servers.")}
    assert servers == {"dfix.context.app.servers.uvicorn"}, sorted(servers)


def _imported(proc: subprocess.CompletedProcess) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}


def test_quick_reader_and_typer_agree():
    for extra in ([], ["--format", "json"], ["--quiet", "--fail-on=finding"], ["--diff", "-j", "1"]):
        quick = _dfix("--check", *extra, str(FILE))
        full = _dfix("--check", *extra, "--select", "DF", str(FILE))  # --select sends the line to typer
        assert (quick.returncode, quick.stdout, quick.stderr) == (full.returncode, full.stdout, full.stderr), extra


def test_one_file_check_leaves_out_the_standard_library_it_does_not_use(tmp_path):
    """tree-sitter-bash's package imports importlib.resources (tempfile, shutil, random, zipfile) for a query
    file dfix never reads, dataclasses imports inspect, a write-only path imports tempfile: a check needs none."""
    (tmp_path / "Dockerfile").write_bytes(FILE.read_bytes())
    proc = _dfix("--check", "Dockerfile", importtime=True, cwd=tmp_path)
    imported = _imported(proc)
    assert "tree_sitter" in imported and "DF104" in proc.stdout  # its RUN was read as shell
    # what the interpreter loads before dfix does (a site .pth hook may import importlib.resources) is not dfix's
    before = _imported(subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True,
                                      text=True, cwd=tmp_path, env=ENV))
    unneeded = {"tree_sitter_bash", "importlib.resources", "tempfile", "shutil", "random", "dataclasses", "inspect"}
    assert not (imported - before) & unneeded, sorted((imported - before) & unneeded)


def test_the_bash_grammar_from_the_binding_is_the_packages():
    import tree_sitter_bash
    from tree_sitter import Language

    from dfix.syntax.shell import _bash_language

    assert Language(_bash_language()) == Language(tree_sitter_bash.language())


def test_a_directory_run_forks_its_workers_without_importing_a_process_pool(tmp_path):
    # concurrent.futures and multiprocessing cost ~45 ms to import and start, more than a hundred files
    # take per core; the workers are forked by dfix.pool instead (Linux)
    if sys.platform != "linux":
        return
    for path in sorted((ROOT / "fixtures" / "realworld").glob("*Dockerfile*"))[:40]:
        shutil.copy(path, tmp_path / path.name)
    proc = _dfix("--check", "-j", "2", ".", importtime=True, cwd=tmp_path)
    assert proc.returncode == 1 and "40 files checked" in proc.stderr
    lines = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    # each worker imports BuildKit's parser for itself (no Go runtime is forked): two workers ran
    assert lines.count("dockerfile") == 2, lines.count("dockerfile")
    pools = {name for name in lines if name.split(".")[0] in ("concurrent", "multiprocessing", "logging")}
    assert not pools, sorted(pools)
