"""The command line, run for real as a subprocess: modes, exit codes, bad input, atomic writes."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "fastapi-naive"
NAIVE = "FROM python:3.12\nRUN apt-get update\nRUN apt-get install -y curl\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n"
GOOD = "FROM python:3.12-slim-trixie\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nRUN pip install --no-cache-dir flask\nUSER 10001\n"


def dfix(*args, cwd=None, wrapper=()):
    command = [*wrapper, sys.executable, "-m", "dfix", *map(str, args)]
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, check=False)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "Dockerfile").write_text(NAIVE)
    return tmp_path


def test_dry_run_is_the_default_and_writes_nothing(project):
    proc = dfix(project)
    assert proc.returncode == 0, proc.stderr
    assert "-RUN apt-get update\n" in proc.stdout and "+RUN pip install --no-cache-dir" in proc.stdout
    assert "\x1b[" not in proc.stdout  # plain when not a terminal
    assert (project / "Dockerfile").read_text() == NAIVE


def test_check_exit_codes(project, tmp_path_factory):
    assert dfix("--check", project).returncode == 1
    good = tmp_path_factory.mktemp("good")
    (good / "Dockerfile").write_text(GOOD)
    (good / ".dockerignore").write_text(".git\n.env\n.venv\n")
    proc = dfix("--check", good)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_write_is_atomic_keeps_mode_and_settles(project):
    target = project / "Dockerfile"
    target.chmod(0o640)
    proc = dfix("--write", project)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text() != NAIVE
    # no temp file left behind; the .dockerignore DF601 writes is new, with the usual mode
    assert sorted(p.name for p in project.iterdir()) == [".dockerignore", "Dockerfile"]
    assert stat.S_IMODE((project / ".dockerignore").stat().st_mode) == 0o644
    assert dfix("--check", project).returncode == 0


def test_write_through_symlink_keeps_the_link(project):
    link = project / "Containerfile"
    real = project / "real.txt"
    real.write_text(NAIVE)
    (project / "Dockerfile").unlink()
    link.symlink_to(real.name)
    assert dfix("--write", link).returncode == 0
    assert link.is_symlink() and real.read_text() != NAIVE


def test_bad_inputs_each_get_one_line_and_the_rest_goes_on(tmp_path):
    good = tmp_path / "good" / "Dockerfile"
    good.parent.mkdir()
    good.write_text(NAIVE)
    bad = {
        "empty/Dockerfile": b"",
        "binary/Dockerfile": b"FROM a\x00\x01\x02\n",
        "latin1/Dockerfile": b"FROM a\nLABEL author=\"Jos\xe9\"\n",
        "heredoc/Dockerfile": b"FROM a\nRUN <<EOF\necho never closed\n",
        "escape/Dockerfile": b"# escape=x\nFROM a\n",
    }
    for name, data in bad.items():
        (tmp_path / name).parent.mkdir()
        (tmp_path / name).write_bytes(data)
    (tmp_path / "dangling").mkdir()
    (tmp_path / "dangling" / "Dockerfile").symlink_to("missing-target")
    proc = dfix("--write", tmp_path)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("dfix: error:")]
    expected = {
        "empty/Dockerfile": "no instructions",
        "binary/Dockerfile": "binary",
        "latin1/Dockerfile": "not UTF-8",
        "heredoc/Dockerfile": "unterminated heredoc",
        "escape/Dockerfile": "invalid escape",
        "dangling/Dockerfile": "dangling symlink",
    }
    for name, words in expected.items():
        matching = [e for e in errors if str(tmp_path / name) in e]
        assert len(matching) == 1 and words in matching[0], (name, errors)
    assert len(errors) == len(expected)
    assert good.read_text() != NAIVE  # the good file was still fixed
    for name, data in bad.items():
        assert (tmp_path / name).read_bytes() == data


def test_unreadable_file_is_an_error(tmp_path):
    locked = tmp_path / "Dockerfile"
    locked.write_text(NAIVE)
    locked.chmod(0o000)
    wrapper = []
    if os.geteuid() == 0:
        # root reads anything through CAP_DAC_OVERRIDE; drop it so mode 000 means what it says
        assert shutil.which("setpriv"), "root needs setpriv (util-linux) to test an unreadable file"
        wrapper = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    probe = subprocess.run([*wrapper, "cat", str(locked)], capture_output=True, check=False)
    assert probe.returncode != 0, "the file must really be unreadable for the test"
    proc = dfix("--check", locked, wrapper=wrapper)
    assert proc.returncode == 2
    assert f"dfix: error: {locked}: cannot read" in proc.stderr
    locked.chmod(0o600)


def test_select_and_ignore(project):
    only_pip = dfix("--select", "DF105", project)
    assert "--no-cache-dir" in only_pip.stdout and "--no-install-recommends" not in only_pip.stdout
    by_hadolint = dfix("--select", "DL3015", project)
    assert "--no-install-recommends" in by_hadolint.stdout and "--no-cache-dir" not in by_hadolint.stdout
    ignored = dfix("--ignore", "DF1", project)
    assert ignored.returncode == 0 and "DF1" not in ignored.stdout
    assert "DF201" in ignored.stdout  # other families still run


def test_json_format(project):
    proc = dfix("--format", "json", project)
    data = json.loads(proc.stdout)
    (record,) = data["files"]
    assert record["changed"] is True
    assert {f["code"] for f in record["applied"]} >= {"DF101", "DF103", "DF104", "DF105"}
    assert data["summary"]["changed"] == 1


def test_discovery_skips_vendored_and_ignored(tmp_path):
    for rel in ["app/Dockerfile", "svc/api.Dockerfile", "svc/Dockerfile.dev", "Containerfile",
                ".git/Dockerfile", "node_modules/x/Dockerfile", ".venv/Dockerfile", "build/Dockerfile"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(NAIVE)
    (tmp_path / ".gitignore").write_text("build/\n")
    proc = dfix("--format", "json", tmp_path)
    found = sorted(Path(r["path"]).relative_to(tmp_path).as_posix() for r in json.loads(proc.stdout)["files"])
    assert found == ["Containerfile", "app/Dockerfile", "svc/Dockerfile.dev", "svc/api.Dockerfile"]


def test_rules_and_explain():
    listing = dfix("rules")
    assert listing.returncode == 0 and "DF104" in listing.stdout and "DL3009" in listing.stdout
    explained = dfix("explain", "DL3009")
    assert explained.returncode == 0
    for heading in ("## What it does", "## Why", "## Example", "## Fix safety"):
        assert heading in explained.stdout
    assert dfix("explain", "DF999").returncode == 2
    assert dfix("--version").stdout.startswith("dfix ")


def test_the_example_in_the_readme_runs():
    proc = dfix("--check", EXAMPLE)
    assert proc.returncode == 1
    assert "examples/fastapi-naive/Dockerfile" in proc.stdout


def test_folders_named_like_dockerfiles_are_searched(tmp_path):
    """A folder whose name matches a Dockerfile pattern is a folder: the walk goes into it, and one named on
    the command line is searched like any directory (a real tree had 23 of 321 Dockerfiles in such folders)."""
    inside = ["api.Dockerfile/Dockerfile", "Dockerfile.d/base.Dockerfile", "Dockerfile/Containerfile",
              "Dockerfile/nested.Dockerfile/Dockerfile.dev", "svc/Dockerfile"]
    for rel in inside:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(NAIVE)
    (tmp_path / "empty.Dockerfile").mkdir()
    proc = dfix("--format", "json", tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    found = sorted(Path(r["path"]).relative_to(tmp_path).as_posix() for r in json.loads(proc.stdout)["files"])
    assert found == sorted(inside)
    named = dfix("--format", "json", tmp_path / "Dockerfile")
    assert named.returncode == 0 and named.stderr == "", named.stderr
    found = sorted(Path(r["path"]).relative_to(tmp_path).as_posix() for r in json.loads(named.stdout)["files"])
    assert found == ["Dockerfile/Containerfile", "Dockerfile/nested.Dockerfile/Dockerfile.dev"]


BUILDKIT_NOTICE = ("dfix: notice: BuildKit's parser (the dockerfile package) is not available on this platform: "
                   "the guard is off")


def test_missing_buildkit_parser_is_said_once_per_run(tmp_path):
    """Where the `dockerfile` package cannot be imported the guard is off: one notice per run, also from
    worker processes (more files than run inline) and with --quiet; none with --no-buildkit-check."""
    blocker = tmp_path / "no-buildkit"
    blocker.mkdir()
    (blocker / "dockerfile.py").write_text('raise ImportError("no wheel for this platform")\n')
    tree = tmp_path / "tree"
    for index in range(40):
        (tree / f"svc{index}").mkdir(parents=True)
        (tree / f"svc{index}" / "Dockerfile").write_text(NAIVE if index % 2 else GOOD)
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": os.pathsep.join([str(blocker), str(ROOT)])}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "dfix", "--jobs", "2", *args, str(tree)],
                              capture_output=True, text=True, env=env, check=False)

    for args in ((), ("--quiet",), ("--format", "json")):
        proc = run(*args)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.splitlines().count(BUILDKIT_NOTICE) == 1, (args, proc.stderr)
        assert "+RUN pip install --no-cache-dir" in proc.stdout or args == ("--format", "json")
    silent = run("--no-buildkit-check")
    assert silent.returncode == 0 and "notice" not in silent.stderr, silent.stderr
    normal = dfix("--jobs", "2", tree)  # where the package imports, nothing is said
    assert normal.returncode == 0 and "notice" not in normal.stderr, normal.stderr
    piped = subprocess.run([sys.executable, "-m", "dfix", "-"], input=NAIVE, capture_output=True, text=True, env=env,
                           check=False)  # an editor's run on stdin is told too
    assert piped.returncode == 0 and piped.stderr.splitlines().count(BUILDKIT_NOTICE) == 1, piped.stderr


# --- unknown rule codes (issue 11, item 3) ---

def test_unknown_codes_on_the_command_line_are_errors_with_a_suggestion(project):
    typo = dfix("--select", "DF1O1", project)  # letter O for zero: used to check nothing and exit 0
    assert typo.returncode == 2 and typo.stdout == ""
    assert typo.stderr == "dfix: error: --select DF1O1: unknown rule code or prefix (did you mean DF101?)\n"
    nonsense = dfix("--ignore", "DF105,FOO", project)
    assert nonsense.returncode == 2 and nonsense.stderr.startswith("dfix: error: --ignore FOO: unknown rule code or prefix")
    # a hadolint code is valid only where a rule cross-references it
    uncovered = dfix("--ignore", "DL3008", project)
    assert uncovered.returncode == 2 and "--ignore DL3008: no dfix rule covers this hadolint code" in uncovered.stderr
    named = dfix("--select", "pip-no-cache-dir", project)
    assert named.returncode == 2 and "(did you mean DF105?)" in named.stderr
    for valid in ("DF", "DF1", "df105", "DL3015", "DF401,DF402"):
        proc = dfix("--select", valid, project)
        assert proc.returncode == 0 and "dfix: error" not in proc.stderr, (valid, proc.stderr)


# --- --fail-on (issue 11, item 8) ---

DEV_SERVER = GOOD + 'CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]\n'  # DF505: reported, never fixed


def test_fail_on_finding_fails_on_what_cannot_be_fixed(tmp_path):
    (tmp_path / "Dockerfile").write_text(DEV_SERVER)
    (tmp_path / ".dockerignore").write_text(".git\n.env\n.venv\n")
    record = json.loads(dfix("--format", "json", tmp_path).stdout)["files"][0]
    assert record["changed"] is False and "DF505" in {f["code"] for f in record["reported"]}
    assert dfix("--check", tmp_path).returncode == 0  # the default: only a pending change fails
    assert dfix("--check", "--fail-on", "change", tmp_path).returncode == 0
    for mode in ("--check", "--dry-run", "--write"):
        proc = dfix(mode, "--fail-on", "finding", tmp_path)
        assert proc.returncode == 1, (mode, proc.stderr)
    assert (tmp_path / "Dockerfile").read_text() == DEV_SERVER


def test_fail_on_finding_passes_a_clean_file_and_errors_still_win(project, tmp_path_factory):
    good = tmp_path_factory.mktemp("good")
    (good / "Dockerfile").write_text(GOOD)
    (good / ".dockerignore").write_text(".git\n.env\n.venv\n")
    assert dfix("--check", "--fail-on", "finding", good).returncode == 0
    assert dfix("--check", "--fail-on", "finding", project).returncode == 1  # a change pending
    (good / "bad.Dockerfile").write_bytes(b"FROM a\nRUN <<EOF\nnever closed\n")
    (good / "Dockerfile").write_text(DEV_SERVER)
    assert dfix("--check", "--fail-on", "finding", good).returncode == 2
    assert dfix("--fail-on", "everything", good).returncode == 2


def test_the_strict_pre_commit_hook_fails_on_findings():
    import yaml

    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    strict = hooks["dfix-strict"]
    assert strict["entry"].split() == ["dfix", "--check", "--fail-on", "finding"]
    assert (strict["files"], strict["exclude"]) == (hooks["dfix"]["files"], hooks["dfix"]["exclude"])


# --- stdin (issue 11, item 9) ---

def stdin(data: bytes, *args, cwd=None):
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "dfix", *map(str, args)], input=data, capture_output=True,
                          cwd=cwd, env=env, check=False)


@pytest.mark.parametrize("data", [
    NAIVE.encode(),
    NAIVE.replace("\n", "\r\n").encode(),  # CRLF
    b"\xef\xbb\xbf" + NAIVE.encode(),  # a BOM
    NAIVE.rstrip("\n").encode(),  # no final newline
])
def test_stdin_writes_what_write_would_write_byte_for_byte(tmp_path, data):
    (tmp_path / ".git").mkdir()
    target = tmp_path / "Dockerfile"
    target.write_bytes(data)
    assert dfix("--write", target).returncode == 0
    proc = stdin(data, "-", "--stdin-filename", target)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == target.read_bytes() != data
    assert b"DF105" in proc.stderr and str(target).encode() in proc.stderr  # the report names the file
    # what is already fixed echoes back unchanged
    again = stdin(proc.stdout, "-", "--stdin-filename", target)
    assert again.returncode == 0 and again.stdout == proc.stdout


def test_stdin_diff_and_check(tmp_path):
    folder = tmp_path / "svc"
    folder.mkdir()
    (tmp_path / ".git").mkdir()
    (folder / "Dockerfile").write_text(NAIVE)
    dry = dfix("--quiet", "Dockerfile", cwd=folder)  # the dry run's diff (alone, with --quiet) of the same file
    diff = stdin(NAIVE.encode(), "--diff", "-", "--stdin-filename", "Dockerfile", cwd=folder)
    assert diff.returncode == 0
    assert diff.stdout.decode() == dry.stdout and "+++ b/.dockerignore" in dry.stdout
    assert "not written" in diff.stderr.decode()
    assert not (folder / ".dockerignore").exists()  # a side file is shown, never written from stdin
    check = stdin(NAIVE.encode(), "--check", "-")
    assert check.returncode == 1 and check.stdout == b""
    clean = stdin(GOOD.encode(), "--check", "-")
    assert clean.returncode == 0 and clean.stdout == b""


def test_stdin_filename_brings_its_config_and_pragma_warnings_name_it(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".dfix.toml").write_text('[per-file-ignores]\n"legacy/*" = ["DF105"]\n')
    text = NAIVE + "# dfix: ignroe\n"
    legacy = stdin(text.encode(), "-", "--stdin-filename", "legacy/Dockerfile", cwd=tmp_path)
    other = stdin(text.encode(), "-", "--stdin-filename", "svc/Dockerfile", cwd=tmp_path)
    assert legacy.returncode == other.returncode == 0
    assert b"--no-cache-dir" not in legacy.stdout and b"--no-cache-dir" in other.stdout
    assert b"dfix: warning: legacy/Dockerfile:6: malformed pragma" in legacy.stderr


def test_bad_stdin_is_an_error_and_is_not_echoed(tmp_path):
    for data, reason in [(b"FROM a\nRUN <<EOF\nnever closed\n", "unterminated heredoc"), (b"", "no instructions"),
                         (b"FROM a\nLABEL x=\"\xe9\"\n", "not UTF-8"), (b"FROM a\x00\n", "binary")]:
        named = stdin(data, "-", "--stdin-filename", "app/Dockerfile", cwd=tmp_path)
        assert named.returncode == 2 and named.stdout == b"", reason
        assert named.stderr.decode().startswith(f"dfix: error: app/Dockerfile: ") and reason in named.stderr.decode()
        bare = stdin(data, "-")
        assert bare.returncode == 2 and bare.stdout == b"" and bare.stderr.startswith(b"dfix: error: -: ")
    (tmp_path / ".dfix.toml").write_text('select = ["DF9"]\n')
    config = stdin(NAIVE.encode(), "-", "--stdin-filename", "Dockerfile", cwd=tmp_path)
    assert config.returncode == 2 and config.stdout == b"" and b"dfix: error: .dfix.toml: select: DF9" in config.stderr


def test_stdin_goes_alone():
    assert stdin(b"", "-", "Dockerfile").returncode == 2
    assert stdin(b"", "--stdin-filename", "x", ".").returncode == 2
    assert stdin(NAIVE.encode(), "--write", "--diff", "-").returncode == 2


# --- a discoverable CLI (issue 11, item 10) ---

def test_help_lists_the_subcommands_and_the_exit_codes():
    proc = dfix("--help")
    assert proc.returncode == 0
    for words in ("dfix rules", "dfix explain CODE", "dfix verify PATH", "Exit codes:", "--fail-on", "--stdin-filename"):
        assert words in proc.stdout, words
    codes = proc.stdout.split("Exit codes:", 1)[1]
    assert [line.split()[0] for line in codes.splitlines() if line.split()[:1] in (["0"], ["1"], ["2"])] == ["0", "1", "2"]


def test_rules_listing_is_sorted_with_a_header_and_aligned_columns():
    from dfix.rules import CATALOGUE as ALL_RULES  # the Dockerfile rules and the Compose rules

    lines = dfix("rules").stdout.splitlines()
    assert lines[0].split() == ["CODE", "NAME", "SAFETY", "HADOLINT", "TITLE"]
    codes = [line.split()[0] for line in lines[1:]]
    assert codes == sorted(r.code for r in ALL_RULES)
    starts = [lines[0].index(heading) for heading in ("NAME", "SAFETY", "HADOLINT", "TITLE")]
    by_code = {r.code: r for r in ALL_RULES}
    for line, code in zip(lines[1:], codes):
        rule = by_code[code]
        cells = (rule.name, rule.safety.value, ",".join(rule.hadolint) or "-", rule.title)
        assert [line.index(cell, start) for cell, start in zip(cells, starts)] == starts, line
    assert [r["code"] for r in json.loads(dfix("rules", "--format", "json").stdout)] == codes


def test_each_rules_safety_and_hadolint_codes_agree_in_readme_rules_and_explain():
    import re

    table = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"\| (DF\d{3}) \| ([^|]+) \| (\w+) \|", line)
        if match:
            table[match[1]] = ({c.strip() for c in match[2].split(",")} - {"–"}, match[3])
    listed = {r["code"]: r for r in json.loads(dfix("rules", "--format", "json").stdout)}
    assert list(table) == sorted(table) and set(table) == set(listed)  # the README's table, in code order
    for code, (hadolint, safety) in table.items():
        explained = dfix("explain", code).stdout
        said = re.search(r"fix safety: (\w+)", explained)[1]
        assert (safety, hadolint) == (listed[code]["safety"], set(listed[code]["hadolint"])), code
        assert said == safety, code
    # a rule that only reports says so everywhere (DF505 was "unsafe" in `dfix rules`)
    assert table["DF505"][1] == "report"


def test_report_rules_never_fix_anything_in_the_fixtures():
    """A rule whose safety is "report" must only report: over every fixture, with unsafe fixes on."""
    from dfix.engine import Options, context_for, fix_text
    from dfix.rules import ALL_RULES, Safety

    report_only = frozenset(r.code for r in ALL_RULES if r.safety is Safety.REPORT)
    assert report_only  # DF505 at least
    options = Options(select=report_only, unsafe_fixes=True, use_oracle=False)
    reported = 0
    for path in sorted((ROOT / "fixtures").rglob("*Dockerfile")):
        result = fix_text(path.read_text(), str(path), options, context=context_for(path))
        assert not result.applied and result.fixed == result.original, path
        reported += len(result.remaining)
    assert reported  # the fixtures do hold such findings


@pytest.mark.parametrize("args", [
    ["--build-jobs", "2", "."],
    ["--engine", "podman", "."],
    ["--verify", "-"],
])
def test_verify_options_out_of_place_are_one_line_errors(args, tmp_path):
    proc = dfix(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("dfix: error: ") and proc.stderr.count("\n") == 1, proc.stderr


def test_verify_with_an_engine_it_cannot_use_is_an_error_for_the_file_and_writes_nothing(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.12-slim\nCOPY app.py .\nCMD python app.py\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    proc = dfix("--write", "--verify", "--engine", "nerdctl", dockerfile)
    assert proc.returncode == 2
    assert f"dfix: error: {dockerfile}: --verify: unknown engine 'nerdctl'" in proc.stderr
    assert dockerfile.read_text() == "FROM python:3.12-slim\nCOPY app.py .\nCMD python app.py\n"
    assert not (tmp_path / ".dockerignore").exists()


@pytest.mark.parametrize("extra", [[], ["--select", "DF"]], ids=["quick command line", "full command line"])
def test_a_reader_that_stops_early_ends_the_run_quietly_with_1(extra):
    # `dfix --check . | head`: the report's reader goes away; both command line readers exit as click does
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "dfix", "--check", *extra, str(ROOT / "fixtures" / "realworld")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout.read(10)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
