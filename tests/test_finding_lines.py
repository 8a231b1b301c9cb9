"""Every finding names the line of the user's file where the instruction it is about starts, whatever the
passes before it moved, and every fix that is applied removes its finding."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from dfix.context import BuildContext
from dfix.engine import Options, fix_text
from dfix.rules import ALL_RULES
from dfix.syntax import Edit, apply_edits, tokenize
from dfix.syntax.origins import Origins

from .conftest import FIXTURES, ROOT

# Where each rule's findings point: the instruction keywords, and for RUN findings the commands one of
# which that RUN must run. None: a finding about the whole file (line 1).
POINTS_AT = {
    "DF101": ({"RUN"}, {"apt-get", "apt"}),
    "DF102": ({"RUN"}, {"apt-get", "apt"}),
    "DF103": ({"RUN"}, {"apt-get", "apt"}),
    "DF104": ({"RUN"}, {"apt-get", "apt"}),
    "DF105": ({"RUN"}, {"pip", "pip3", "pip3.\\d+", "pip\\d"}),
    "DF106": ({"RUN"}, {"apk"}),
    "DF107": ({"RUN"}, {"uv"}),
    "DF108": ({"RUN"}, set()),
    "DF109": ({"RUN"}, {"pip", "pip3", "pip3.\\d+", "pip\\d"}),
    "DF201": ({"RUN"}, {"pip", "pip3", "poetry", "pipenv", "uv"}),
    "DF202": ({"RUN"}, set()),
    "DF203": ({"COPY", "ADD"}, set()),
    "DF204": ({"RUN"}, {"cd", "pushd", "popd"}),
    "DF301": ({"ADD"}, set()),
    "DF302": ({"FROM", "USER"}, set()),
    "DF401": ({"FROM"}, set()),
    "DF402": ({"FROM"}, set()),
    "DF403": ({"RUN"}, {"apt-get", "apt", "apk", "dnf", "yum", "microdnf"}),
    "DF501": ({"MAINTAINER"}, set()),
    "DF502": ({"FROM", "ENV"}, set()),
    "DF503": ({"CMD", "ENTRYPOINT", "HEALTHCHECK"}, set()),
    "DF504": ({"CMD", "ENTRYPOINT"}, set()),
    "DF505": ({"CMD", "ENTRYPOINT"}, set()),
    "DF506": ({"CMD", "ENTRYPOINT"}, set()),
    "DF507": ({"CMD", "ENTRYPOINT"}, set()),
    "DF508": ({"CMD", "ENTRYPOINT"}, set()),
    "DF601": (None, set()),
}

CASES = sorted(p for p in FIXTURES.glob("*/*/before.Dockerfile")) + sorted((FIXTURES / "realworld").glob("*.Dockerfile"))


def test_every_rule_says_where_it_points():
    assert set(POINTS_AT) == {rule.code for rule in ALL_RULES}


@pytest.fixture(scope="module")
def corpus_results():
    out = []
    for path in CASES:
        text = path.read_bytes().decode("utf-8")
        context = BuildContext(path.parent, dockerfile=path.name)
        for options in (Options(), Options(unsafe_fixes=True)):
            out.append((path, text, fix_text(text, str(path), options, context=context)))
    return out


def _instruction_at(doc, line: int):
    return next((i for i in doc.instructions if i.first_line + 1 == line), None)


def test_every_finding_names_the_line_of_its_instruction(corpus_results):
    wrong, count = [], 0
    for path, text, result in corpus_results:
        doc = tokenize(text)
        for finding, _ in result.findings():
            count += 1
            keywords, commands = POINTS_AT[finding.code]
            if keywords is None:
                if finding.line != 1:
                    wrong.append(f"{path}:{finding.line}: {finding.code} is about the file, not line 1")
                continue
            ins = _instruction_at(doc, finding.line)
            if ins is None:
                wrong.append(f"{path}:{finding.line}: {finding.code} names a line where no instruction starts")
                continue
            target = ins.inner or ins  # ONBUILD RUN ...
            if target.keyword not in keywords:
                wrong.append(f"{path}:{finding.line}: {finding.code} names {target.keyword}, not {sorted(keywords)}")
            elif target.keyword == "RUN" and commands:
                source = text[ins.start:ins.stop]  # heredoc bodies included
                if not re.search(r"(?<![\w.-])(" + "|".join(commands) + r")(?![\w.-])", source):
                    wrong.append(f"{path}:{finding.line}: {finding.code} names a RUN that runs none of {sorted(commands)}")
            # a BOM is no column: editors and code scanning count from the first character after it
            first_line = text.splitlines()[ins.first_line].removeprefix("\ufeff")
            if result.column(finding.line) != len(first_line) - len(first_line.lstrip(" \t")) + 1:
                wrong.append(f"{path}:{finding.line}: {finding.code} column {result.column(finding.line)} is not where the instruction starts")
    assert count > 500
    assert not wrong, "\n".join(wrong[:40])


def test_an_applied_fix_removes_its_finding(corpus_results):
    """After a rule's edits that rule no longer finds the same thing on the same line."""
    left = []
    for path, _, result in corpus_results:
        still = {(f.code, f.line, f.message) for f in result.remaining}
        left += [f"{path}:{f.line}: {f.code} {f.message}" for f in result.applied if (f.code, f.line, f.message) in still]
    assert not left, "\n".join(left)


def test_findings_come_sorted_by_line_then_code(corpus_results):
    for path, _, result in corpus_results:
        keys = [(f.line, f.code) for f, _ in result.findings()]
        assert keys == sorted(keys), path


ROOT_AGAIN = """FROM python:3.12-slim-trixie
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir flask
USER root
CMD ["python", "app.py"]
"""


def test_a_fix_that_leaves_its_finding_is_withheld(tmp_path):
    # DF302 would add a user and `USER 10001` before the file's own `USER root`: an edit with no effect
    (tmp_path / "app.py").write_text("print('hi')\n")
    result = fix_text(ROOT_AGAIN, "Dockerfile", Options(select=frozenset({"DF302"})), context=BuildContext(tmp_path))
    assert result.fixed == ROOT_AGAIN and not result.applied
    [finding] = result.remaining
    assert (finding.code, finding.line) == ("DF302", 5)
    assert "leave the finding in place" in finding.reason and "USER 10001" in finding.reason


# The file from the report: findings of later passes named lines of the rewritten text (DF506 line 23,
# DF402 line 11, the shell-form CMD on line 9 reported at line 8).
NINE_LINES = """FROM python:3.12
WORKDIR /app
RUN apt-get update
RUN apt-get install -y gcc libpq-dev
COPY . .
RUN pip install -r requirements.txt
EXPOSE 8000
ENV DEBUG=1
CMD uvicorn main:app --host 0.0.0.0 --port 8000 --reload
"""
MAIN = 'from fastapi import FastAPI\napp = FastAPI()\n\n\n@app.get("/health")\ndef health():\n    return {"ok": True}\n'


def _dfix(*args, cwd):
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "dfix", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def nine(tmp_path):
    (tmp_path / "Dockerfile").write_text(NINE_LINES)
    (tmp_path / "requirements.txt").write_text("fastapi\nuvicorn\npsycopg2\n")
    (tmp_path / "main.py").write_text(MAIN)
    return tmp_path


def test_every_format_names_the_input_lines(nine):
    lines = NINE_LINES.splitlines()
    github = _dfix("--format", "github", "Dockerfile", cwd=nine).stdout.splitlines()
    annotations = [re.match(r"::warning file=Dockerfile,line=(\d+),col=(\d+),title=(DF\d+)::", a) for a in github]
    assert annotations and all(annotations), github
    from_github = [(int(m.group(1)), m.group(3)) for m in annotations]
    assert from_github == sorted(from_github)

    data = json.loads(_dfix("--format", "json", "Dockerfile", cwd=nine).stdout)["files"][0]
    from_json = sorted((f["line"], f["code"]) for f in data["applied"] + data["reported"])

    sarif = json.loads(_dfix("--format", "sarif", "Dockerfile", cwd=nine).stdout)
    from_sarif = [
        (r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"]) for r in sarif["runs"][0]["results"]
    ]
    assert all(r["locations"][0]["physicalLocation"]["region"]["startColumn"] == 1 for r in sarif["runs"][0]["results"])

    text = _dfix("Dockerfile", cwd=nine).stdout
    from_text = [(int(m.group(1)), m.group(2)) for m in re.finditer(r"^Dockerfile:(\d+): (DF\d+) ", text, re.M)]

    assert from_github == from_json == from_sarif == from_text
    assert all(line <= len(lines) for line, _ in from_github)
    by_code = {code: line for line, code in from_github}
    assert lines[by_code["DF503"] - 1].startswith("CMD ")  # the shell-form CMD, line 9
    assert lines[by_code["DF506"] - 1].startswith("CMD ")
    assert lines[by_code["DF402"] - 1].startswith("FROM ")
    assert lines[by_code["DF105"] - 1].startswith("RUN pip install")  # found after DF201 moved it


def test_moved_and_copied_lines_trace_back_to_where_the_user_wrote_them():
    text = "FROM a\nCOPY . .\nRUN pip install -r r.txt\nCMD x\n"
    origins = Origins(tokenize(text))
    move = [Edit.insert(7, "RUN pip install -r r.txt\n"), Edit.delete(16, 41)]
    after = tokenize(apply_edits(text, move))
    assert after.text == "FROM a\nRUN pip install -r r.txt\nCOPY . .\nCMD x\n"
    origins.record(tokenize(text), after, move)
    assert [origins.input_line(n, after) for n in (1, 2, 3, 4)] == [1, 3, 2, 4]
    # a line with no source in the input points where it was inserted: the line that follows it there
    added = [Edit.insert(after.text.index("CMD"), "USER 10001\n")]
    again = tokenize(apply_edits(after.text, added))
    origins.record(after, again, added)
    assert [origins.input_line(n, again) for n in (1, 2, 3, 4, 5)] == [1, 3, 2, 4, 4]


def test_files_are_reported_in_path_order(tmp_path):
    # os.walk gives a folder's files before its subfolders: a/z.Dockerfile came before a/b/Dockerfile
    for rel in ("a/z.Dockerfile", "a/b/Dockerfile", "a/b.Dockerfile", "Dockerfile", "a/Dockerfile.dev"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("FROM python:3.12-slim-trixie\nRUN pip install flask\n")
    for jobs in ("1", "2"):
        data = json.loads(_dfix("--format", "json", "--jobs", jobs, ".", cwd=tmp_path).stdout)
        paths = [record["path"] for record in data["files"]]
        assert len(paths) == 5 and paths == sorted(paths), paths
