"""Inline pragmas, for real: Dockerfiles on disk, the CLI as a subprocess, hadolint itself as the referee."""

from __future__ import annotations

import json
import subprocess

from .test_cli import dfix

CLEAN_APT = "RUN apt-get update && apt-get install -y {} && rm -rf /var/lib/apt/lists/*\n"  # only DF101 in DF1


def findings(tmp_path, text, *args):
    """{(code, line)} dfix fixes or reports in `text`, the process."""
    (tmp_path / ".git").mkdir(exist_ok=True)  # no config from above the test's folder
    (tmp_path / "Dockerfile").write_text(text)
    proc = dfix("--format", "json", *args, "Dockerfile", cwd=tmp_path)
    record = json.loads(proc.stdout)["files"][0]
    return {(f["code"], f["line"]) for f in record["applied"] + record["reported"]}, proc


def test_dfix_ignore_one_code_on_the_instruction_below(tmp_path):
    text = (
        "FROM debian:12\n"
        "# dfix: ignore=DF101\n" + CLEAN_APT.format("curl")
        + CLEAN_APT.format("wget")
        + "# dfix: ignore=DF101\nRUN pip install flask\n"  # another code: DF105 stays
    )
    found, _ = findings(tmp_path, text, "--select", "DF1")
    assert found == {("DF101", 4), ("DF105", 6)}
    proc = dfix("--write", "--select", "DF1", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    after = (tmp_path / "Dockerfile").read_text().splitlines(keepends=True)
    assert after[1:3] == text.splitlines(keepends=True)[1:3]  # pragma and instruction byte for byte
    assert "--no-install-recommends wget" in after[3] and "--no-cache-dir" in after[5]


def test_dfix_ignore_alone_suppresses_everything_and_accepts_prefixes_and_hadolint_codes(tmp_path):
    text = (
        "FROM debian:12\n"
        "# dfix: ignore\n# the vendor's installer needs the recommended packages\n"
        "RUN apt-get update && apt-get install -y curl && pip install flask && rm -rf /var/lib/apt/lists/*\n"
        "# dfix: ignore=DF1\n" + CLEAN_APT.format("git")
        + "#dfix:ignore = dl3042\nRUN pip install requests\n"
        + "# dfix: ignore=\nRUN pip install httpx\n"  # no codes: not a pragma
        + "# dfix: ignore\n\nRUN pip install rich\n"  # a blank line ends the block above an instruction
    )
    found, _ = findings(tmp_path, text, "--select", "DF1")
    assert found == {("DF105", 10), ("DF105", 13)}


def test_dfix_ignore_file_anywhere(tmp_path):
    text = "FROM python:3.12\n" + CLEAN_APT.format("curl") + "# dfix: ignore-file\nCMD [\"python\"]\n"
    found, proc = findings(tmp_path, text)
    assert found == set(), proc.stdout
    proc = dfix("--write", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "Dockerfile").read_text() == text
    assert not (tmp_path / ".dockerignore").exists()  # DF601's finding is the file's too


def test_hadolint_ignore_counts_only_directly_above_as_hadolint_does(tmp_path):
    text = (
        "FROM debian:12\n"
        "# hadolint ignore=DL3008,DL3015\n" + CLEAN_APT.format("a")  # 3: suppressed
        + "# hadolint ignore=DL3015\n\n" + CLEAN_APT.format("b")  # 6: a blank line between
        + "# hadolint ignore=DL3015\n# another comment\n" + CLEAN_APT.format("c")  # 9: not the line above
        + "# hadolint ignore=dl3015\n" + CLEAN_APT.format("d")  # 11: lower case is no code
        + "# hadolint ignore=DL3015 because\n" + CLEAN_APT.format("e")  # 13: trailing words
        + "#hadolint ignore = DL3015 , DL3008 \n" + CLEAN_APT.format("f")  # 15: suppressed
        + "# hadolint ignore=DL3042\n" + CLEAN_APT.format("g")  # 17: another rule's code
    )
    found, _ = findings(tmp_path, text, "--select", "DF101")
    assert found == {("DF101", line) for line in (6, 9, 11, 13, 17)}
    # the referee: hadolint reports DL3015 on exactly those lines
    proc = subprocess.run(["hadolint", "--no-fail", "-f", "json", "Dockerfile"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert {w["line"] for w in json.loads(proc.stdout) if w["code"] == "DL3015"} == {line for _, line in found}


def test_hadolint_global_ignore_anywhere(tmp_path):
    text = (
        "FROM debian:12\n" + CLEAN_APT.format("curl") + "RUN pip install flask\n"
        + CLEAN_APT.format("git") + "# hadolint global ignore=DL3015\n"
    )
    found, _ = findings(tmp_path, text, "--select", "DF1")
    assert found == {("DF105", 3)}


def test_pragmas_inside_continuations_and_heredocs_do_not_count(tmp_path):
    text = (
        "FROM debian:12\n"
        "RUN apt-get update && apt-get install -y \\\n"
        "# dfix: ignore\n"  # a comment BuildKit skips inside the RUN, not a line above it
        "    curl && rm -rf /var/lib/apt/lists/*\n"
        "COPY <<EOF /etc/notes\n"
        "# dfix: ignore-file\n"
        "# hadolint global ignore=DL3015,DL3042\n"
        "EOF\n"
        "RUN <<EOF\n"
        "# dfix: ignore\n"
        "pip install flask\n"
        "EOF\n"
    )
    found, _ = findings(tmp_path, text, "--select", "DF1")
    assert found == {("DF101", 2), ("DF105", 9)}


def test_pragmas_follow_their_instruction_across_passes(tmp_path):
    # DF103 joins lines 2-3 in one pass, so the pragma and its RUN are a line higher in the next
    text = (
        "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
        "# dfix: ignore=DF101\n" + CLEAN_APT.format("wget")
    )
    (tmp_path / "Dockerfile").write_text(text)
    proc = dfix("--write", "--select", "DF1", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "Dockerfile").read_text() == (
        "FROM debian:12\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n"
        "# dfix: ignore=DF101\n" + CLEAN_APT.format("wget")
    )


def test_findings_off_instruction_lines_need_a_file_wide_pragma(tmp_path):
    # DF601 reports the missing .dockerignore on line 1, here a comment: no instruction pragma reaches it
    text = "# dfix: ignore=DF601\nFROM python:3.12-slim-trixie\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nUSER 10001\n"
    found, _ = findings(tmp_path, text)
    assert found == {("DF601", 1)}


def test_malformed_pragmas_and_unknown_codes_get_a_warning_and_the_file_is_still_processed(tmp_path):
    text = (
        "FROM debian:12\n"
        "# dfix: ignore=DF1 because the vendor needs them\n" + CLEAN_APT.format("a")  # 2: words after the codes
        + "# dfix: ignroe\n" + CLEAN_APT.format("b")  # 4: a typo
        + "# dfix ignore=DF101\n" + CLEAN_APT.format("c")  # 6: no colon
        + "# dfix: ignore=\n" + CLEAN_APT.format("d")  # 8: no codes
        + "# dfix: ignore=DF1O1,DF105\nRUN pip install flask\n"  # 10: one unknown code, DF105 still ignored
        + "# hadolint ignore=DL3008\n" + CLEAN_APT.format("e")  # hadolint's rule, not dfix's: no warning
        + "# built with dfix, see the README\n# DFIX ignore\n"  # 14: a comment that mentions dfix; 15: upper case
        + "RUN echo done\n"
    )
    found, proc = findings(tmp_path, text, "--select", "DF1")
    assert proc.returncode == 0
    assert found == {("DF101", line) for line in (3, 5, 7, 9, 13)}  # a broken pragma suppresses nothing
    warnings = json.loads(proc.stdout)["files"][0]["warnings"]
    assert [w["line"] for w in warnings] == [2, 4, 6, 8, 10, 15]
    assert "text after the codes" in warnings[0]["message"]
    assert warnings[4]["message"] == "ignore=DF1O1: unknown rule code or prefix (did you mean DF101?)"
    text_proc = dfix("--select", "DF1", "Dockerfile", cwd=tmp_path)
    lines = [line for line in text_proc.stderr.splitlines() if line.startswith("dfix: warning:")]
    assert [line.split(":")[2:4] for line in lines] == [[" Dockerfile", str(n)] for n in (2, 4, 6, 8, 10, 15)]
    assert lines[1].startswith("dfix: warning: Dockerfile:4: malformed pragma, ignored: write `# dfix: ignore`")
    assert text_proc.returncode == 0 and "DF101" in text_proc.stdout  # processed, and stdout stays the report
    assert "warning" not in dfix("--quiet", "--select", "DF1", "Dockerfile", cwd=tmp_path).stderr
