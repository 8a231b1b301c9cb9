"""DF503 on shell-form commands that need the shell: the argv BuildKit stores stays the same, `exec` hands PID 1
to the last command, and the rules that read the command still read it after the rewrite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dfix.contract import contract, differences
from dfix.engine import Options, fix_text
from dfix.syntax import tokenize

ROOT = Path(__file__).resolve().parent.parent


def _fixed(text: str, **options) -> str:
    result = fix_text(text, "Dockerfile", Options(select=frozenset({"DF503"}), **options))
    assert result.error is None and result.withheld is None
    return result.fixed


def _command(text: str, keyword: str = "CMD") -> list[str]:
    line = next(l for l in text.splitlines() if l.upper().startswith(keyword + " "))
    return json.loads(line[len(keyword) + 1:])


def test_a_chain_with_variables_keeps_the_shell_and_execs_the_server():
    before = 'FROM python:3.12-slim\nCMD python manage.py migrate && gunicorn app:app --workers "${WORKERS:-2}"\n'
    after = _fixed(before)
    assert _command(after) == ["/bin/sh", "-c", 'python manage.py migrate && exec gunicorn app:app --workers "${WORKERS:-2}"']


def test_the_stage_shell_is_the_one_written():
    before = 'FROM python:3.12-slim\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD gunicorn app:app -b :$PORT\n'
    assert _command(_fixed(before)) == ["/bin/bash", "-o", "pipefail", "-c", "exec gunicorn app:app -b :$PORT"]


def test_a_simple_cmd_an_entrypoint_receives_keeps_its_argv():
    before = 'FROM python:3.12-slim\nENTRYPOINT ["tini", "--"]\nCMD gunicorn app:app\n'
    assert _command(_fixed(before)) == ["/bin/sh", "-c", "exec gunicorn app:app"]


def test_continuation_blanks_between_words_become_one_space_but_not_inside_quotes():
    before = 'FROM python:3.12-slim\nCMD python -c "import a;  \\\n   a.b()" && \\\n    gunicorn x\n'
    assert _command(_fixed(before)) == ["/bin/sh", "-c", 'python -c "import a;     a.b()" && exec gunicorn x']


def test_unsafe_exec_positions_are_reported():
    for text, why in [
        ("python app.py | tee /tmp/log", "pipeline"),
        ("celery worker & gunicorn app:app", "background"),
        ('trap "rm -f /tmp/pid" EXIT; gunicorn app:app', "trap"),
        ("check && echo ready", "builtin"),
        ("HOST=0.0.0.0 node server.js", "assignment"),
        ("start() { gunicorn app:app; }; start", "function"),
        ("(cd /app && gunicorn app:app)", "subshell"),
    ]:
        result = fix_text(f"FROM python:3.12-slim\nCMD {text}\n", "Dockerfile", Options(select=frozenset({"DF503"})))
        assert not result.changed, text
        (finding,) = result.remaining
        assert why in finding.reason, (text, finding.reason)


def test_the_contract_sees_the_same_argv_apart_from_exec():
    before = tokenize('FROM python:3.12-slim\nCMD migrate && gunicorn app:app --bind :$PORT\n')
    wrapped = tokenize('FROM python:3.12-slim\nCMD ["/bin/sh", "-c", "migrate && exec gunicorn app:app --bind :$PORT"]\n')
    other_shell = tokenize('FROM python:3.12-slim\nCMD ["/bin/bash", "-c", "migrate && exec gunicorn app:app --bind :$PORT"]\n')
    other_text = tokenize('FROM python:3.12-slim\nCMD ["/bin/sh", "-c", "migrate; exec gunicorn app:app --bind :$PORT"]\n')
    exec_elsewhere = tokenize('FROM python:3.12-slim\nCMD ["/bin/sh", "-c", "exec migrate && gunicorn app:app --bind :$PORT"]\n')
    assert differences(contract(before), contract(wrapped)) == []
    for changed in (other_shell, other_text, exec_elsewhere):
        assert differences(contract(before), contract(changed)) == ["final.cmd"]


def test_a_paired_shell_form_is_not_its_words():
    paired = tokenize('FROM python:3.12-slim\nENTRYPOINT ["tini", "--"]\nCMD gunicorn app:app\n')
    direct = tokenize('FROM python:3.12-slim\nENTRYPOINT ["tini", "--"]\nCMD ["gunicorn", "app:app"]\n')
    assert differences(contract(paired), contract(direct)) == ["final.cmd"]


def test_the_dev_server_is_still_reported_inside_the_shell_wrapper(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM python:3.12-slim\nENTRYPOINT ["/entrypoint.sh"]\nCMD python manage.py runserver 0.0.0.0:8000\n')
    proc = subprocess.run(
        [sys.executable, "-m", "dfix", "--select", "DF503,DF505", "--write", str(dockerfile)],
        capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert _command(dockerfile.read_text()) == ["/bin/sh", "-c", "exec python manage.py runserver 0.0.0.0:8000"]
    again = subprocess.run(
        [sys.executable, "-m", "dfix", "--select", "DF505", str(dockerfile)],
        capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert "DF505" in again.stdout + again.stderr and "development server" in again.stdout + again.stderr


def test_buildkit_reads_the_written_array_as_the_text_the_shell_form_ran(buildkit):
    """Quotes, backslashes, tabs and non-ASCII survive the JSON: BuildKit's own parser gives back the text."""
    for case in sorted((ROOT / "fixtures" / "exec-form-command").iterdir()):
        before = list(buildkit.parse_string((case / "before.Dockerfile").read_text()))
        after = list(buildkit.parse_string((case / "after.Dockerfile").read_text()))
        for old, new in zip(before, after):
            if (old.cmd or "").upper() not in ("CMD", "ENTRYPOINT") or old.json or not new.json:
                continue
            if new.value[0] not in ("/bin/sh", "/bin/bash"):
                continue  # a simple command written as its own argv
            *shell, text = new.value
            assert " ".join(text.replace("exec ", "", 1).split()) == " ".join(old.value[0].removeprefix("exec ").split()), case.name


def test_the_app_analysis_reads_the_wrapped_command_as_the_shell_form(tmp_path):
    from dfix.context import BuildContext
    from dfix.rules import RuleContext
    from dfix.rules._app import final_app

    (tmp_path / "main.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/health')\ndef health():\n    return {}\n")
    head = 'FROM python:3.12-slim\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nWORKDIR /app\nCOPY . .\n'
    before = head + "CMD python -c 'import main' && uvicorn main:app --host 0.0.0.0 --port 8001\n"
    after = _fixed(before)
    assert "exec uvicorn" in after
    facts = [final_app(tokenize(text), RuleContext(build_context=BuildContext(tmp_path))) for text in (before, after)]
    assert facts[0] is not None and (facts[0].server, facts[0].port, facts[0].health_route) == ("uvicorn", 8001, "/health")
    assert (facts[1].server, facts[1].port, facts[1].health_route) == (facts[0].server, facts[0].port, facts[0].health_route)
