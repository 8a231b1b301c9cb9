"""DF108 (pipefail): which pipelines it reads as safe, which later instructions keep bash away, and that the
contract guard accepts exactly its SHELL and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dfix.contract import contract, differences
from dfix.engine import Options, fix_text, guard
from dfix.rules.pipefail import Pipefail
from dfix.syntax import tokenize

from .conftest import ROOT

ONLY = Options(select=frozenset({"DF108"}))
BASH = 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'


def _fix(text: str, unsafe: bool = False):
    return fix_text(text, "Dockerfile", Options(select=frozenset({"DF108"}), unsafe_fixes=unsafe))


@pytest.mark.parametrize("run", [
    "curl -fsSL https://example.com/i.sh | sh",
    "wget -qO- https://example.com/a.tgz | tar -xz -C /opt",
    "curl -s https://example.com/get-pip.py | python3.11",
    "echo 'root:x' | chpasswd",
    "V=$(curl -s https://example.com/v | jq -r .tag) && echo $V",
    # tree-sitter-bash nests this as a | (b | (c && d)); bash reads (a | b | c) && d
    "find / -name x | sort -u | xargs -r ls && apt-get purge -y x",
    "cat list | while read -r line; do echo \"$line\"; done",
])
def test_a_pipeline_whose_readers_read_to_the_end_gets_the_shell(run):
    text = f"FROM debian:bookworm-slim\nRUN {run}\n"
    result = _fix(text)
    assert result.fixed == f"FROM debian:bookworm-slim\n{BASH}RUN {run}\n", result.remaining


@pytest.mark.parametrize("run, why", [
    ("yes | apt-get install tzdata", "`yes`"),
    ("curl -s https://example.com/list | head -n 5", "`head`"),
    ("apt-cache policy | grep -q bookworm", "`grep -q`"),
    ("dpkg -l | grep -m1 libc", "`grep -m1`"),
    ("ls /usr/lib | sed -n '1p;q'", "`sed` with `q`"),
    ("ls / | awk '{print; exit}'", "`awk` with `exit`"),
    ("cat /etc/hosts | true", "`true`"),
])
def test_a_reader_that_stops_early_leaves_the_stage_alone_even_with_unsafe_fixes(run, why):
    text = f"FROM debian:bookworm-slim\nRUN curl -s x | sh\nRUN {run}\n"
    result = _fix(text, unsafe=True)
    assert result.fixed == text
    [finding] = result.remaining
    assert finding.line == 2 and "line 3" in finding.reason and why in finding.reason and "SIGPIPE" in finding.reason


@pytest.mark.parametrize("run", [
    "grep -v '^#' requirements.txt | xargs pip install",
    "curl -s x | mystery-reader",
])
def test_an_unknown_reader_or_a_grep_writer_needs_unsafe_fixes(run):
    text = f"FROM debian:bookworm-slim\nRUN {run}\n"
    assert _fix(text).fixed == text
    assert _fix(text, unsafe=True).fixed == f"FROM debian:bookworm-slim\n{BASH}RUN {run}\n"


@pytest.mark.parametrize("later, what", [
    ('echo "a\\nb" > /etc/motd', "`echo`"),
    ("echo -e 'a\\tb' > /f", "`echo`"),
    ("mkdir -p /srv/{data,logs}", "brace expansion"),
    ("[[ -f /x ]] && echo yes", "[["),
    ("source /etc/profile", "`source`"),
    ("make &> /build.log", "`&>`"),
    ('echo "$RANDOM" > /seed', "$RANDOM"),
    ('cp a "${NAME//-/_}"', "${NAME//-/_}"),
    ("diff <(ls /a) <(ls /b)", "process substitution"),
    ("printf '\\x41' > /a", "`printf`"),
    ('[ "$A" == "b" ] && touch /c', "`==`"),
])
def test_a_later_instruction_bash_reads_otherwise_keeps_the_debian_stage_on_dash(later, what):
    text = f"FROM debian:bookworm-slim AS base\nRUN curl -s x | sh\nFROM base\nRUN {later}\n"
    result = _fix(text, unsafe=True)
    assert result.fixed == text
    assert "line 4" in result.remaining[0].reason and what in result.remaining[0].reason


def test_on_alpine_ash_is_the_same_shell_so_bash_syntax_does_not_matter():
    text = "FROM alpine:3.20\nRUN wget -qO- x | tar -xz\nRUN echo -e 'a\\tb' > /f\n"
    assert _fix(text).fixed == text.replace("RUN wget", 'SHELL ["/bin/ash", "-o", "pipefail", "-c"]\nRUN wget')


def test_a_healthcheck_keeps_the_shell_away_only_in_shell_form():
    sigpipe = 'FROM debian:12\nRUN curl -s x | sh\nHEALTHCHECK CMD ["/bin/sh", "-c", "curl -fs localhost | grep -q ok"]\n'
    # an exec form runs its own /bin/sh whatever SHELL says: its grep -q is not under pipefail
    assert _fix(sigpipe).fixed == sigpipe.replace("RUN curl", BASH + "RUN curl")
    shell_form = "FROM debian:12\nRUN curl -s x | sh\nHEALTHCHECK CMD curl -fs localhost || exit 1\n"
    assert "HEALTHCHECK on line 3 would run under the SHELL on Docker" in _fix(shell_form).remaining[0].reason
    bashism = "FROM debian:12\nRUN curl -s x | sh\nRUN [[ -f /x ]] && run\n"
    assert "[[" in _fix(bashism, unsafe=True).remaining[0].reason
    fine = 'FROM debian:12\nRUN curl -s x | sh\nHEALTHCHECK CMD ["curl", "-fs", "localhost"]\nCMD gunicorn app:app\n'
    assert BASH in _fix(fine).fixed


def test_what_is_already_pipefail_or_not_sh_is_left_alone():
    for text in (
        "FROM debian:12\n" + BASH + "RUN curl x | sh\n",
        'FROM alpine:3.20\nSHELL ["/bin/ash", "-eo", "pipefail", "-c"]\nRUN curl x | sh\n',
        "FROM python:3.12-slim-trixie\nRUN set -euo pipefail; curl x | sh\n",
        '# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir C:\\ | findstr x\n',
        'FROM debian:12\nSHELL ["pwsh", "-Command"]\nRUN Get-Item x | Remove-Item\n',
    ):
        result = _fix(text, unsafe=True)
        assert result.fixed == text and not result.remaining, text


def test_a_chosen_shell_or_an_unknown_base_is_reported():
    chosen = _fix('FROM debian:12\nSHELL ["/bin/bash", "-c"]\nRUN curl x | sh\n', unsafe=True)
    assert "SHELL on line 2 has no -o pipefail" in chosen.remaining[0].reason
    unknown = _fix("FROM registry.example.com/base:1\nRUN curl x | sh\n", unsafe=True)
    assert "not known" in unknown.remaining[0].reason


def test_a_pragma_on_a_later_pipeline_keeps_the_shell_away():
    text = "FROM debian:12\nRUN curl x | sh\n# hadolint ignore=DL4006\nRUN curl y | sh\n"
    result = _fix(text, unsafe=True)
    assert result.fixed == text and "pragma" in result.remaining[0].reason


def test_an_arg_bash_reads_at_start_keeps_the_shell_away():
    text = "FROM debian:12\nARG BASH_ENV=/etc/env\nRUN curl x | sh\n"
    assert "BASH_ENV" in _fix(text).remaining[0].reason


def test_uid_from_an_arg_is_the_same_under_both_shells():
    text = "FROM debian:12\nARG UID=1000\nRUN curl x | sh && useradd -u $UID app\n"
    assert BASH in _fix(text).fixed
    assert "$UID" in _fix("FROM debian:12\nRUN curl x | sh && useradd -u $UID app\n").remaining[0].reason


# -- the contract guard --------------------------------------------------------------------------------

BEFORE = "FROM debian:12\nRUN curl x | sh\n"


@pytest.mark.parametrize("after, accepted", [
    ("FROM debian:12\n" + BASH + "RUN curl x | sh\n", True),
    ('FROM alpine:3\nSHELL ["/bin/ash", "-o", "pipefail", "-c"]\nRUN curl x | sh\n'.replace("alpine:3", "debian:12"), True),
    ('FROM debian:12\nSHELL ["/bin/bash", "-c"]\nRUN curl x | sh\n', False),  # a shell change without pipefail
    ('FROM debian:12\nSHELL ["/bin/zsh", "-o", "pipefail", "-c"]\nRUN curl x | sh\n', False),  # another shell
    ('FROM debian:12\nSHELL ["/bin/bash", "-x", "-o", "pipefail", "-c"]\nRUN curl x | sh\n', False),  # and more
    ("FROM debian:12\n" + BASH + "RUN curl y | sh\n", False),  # a changed RUN
    ("FROM debian:12\n" + BASH + "RUN curl x | sh\nENV A=1\n", False),
])
def test_the_guard_accepts_exactly_the_pipefail_shell(after, accepted):
    assert (guard(tokenize(BEFORE), tokenize(after), Pipefail.changes, use_oracle=False) is None) is accepted
    # without DF108's declared change, even its SHELL is a change of the contract
    assert guard(tokenize(BEFORE), tokenize(after), frozenset(), use_oracle=False) is not None


def test_a_users_pipefail_shell_keeps_its_other_options_in_the_contract():
    one = contract(tokenize('FROM debian:12\nSHELL ["/bin/bash", "-eux", "-o", "pipefail", "-c"]\n'))
    two = contract(tokenize('FROM debian:12\nSHELL ["/bin/bash", "-euxo", "pipefail", "-c"]\n'))
    three = contract(tokenize('FROM debian:12\nSHELL ["/bin/bash", "-eo", "pipefail", "-c"]\n'))
    assert differences(one, two, Pipefail.changes) == []
    assert differences(one, three, Pipefail.changes) == ["final.instructions"]


def test_cli_fixes_and_checks(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM python:3.12-slim\r\nRUN curl -fsSL https://example.com/i.sh | sh\r\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    check = subprocess.run([sys.executable, "-m", "dfix", "--check", "--select", "DL4006", str(path)],
                           capture_output=True, text=True, env=env)
    assert check.returncode == 1 and "DF108" in check.stdout + check.stderr
    write = subprocess.run([sys.executable, "-m", "dfix", "--write", "--select", "DF108", str(path)],
                           capture_output=True, text=True, env=env)
    assert write.returncode == 0, write.stderr
    assert path.read_bytes() == (b"FROM python:3.12-slim\r\n" + BASH.replace("\n", "\r\n").encode()
                                 + b"RUN curl -fsSL https://example.com/i.sh | sh\r\n")
    again = subprocess.run([sys.executable, "-m", "dfix", "--check", "--select", "DF108", str(path)],
                           capture_output=True, text=True, env=env)
    assert again.returncode == 0


@pytest.mark.parametrize("command", [
    'CMD gunicorn --workers "$WORKERS" app:app',  # needs a shell: [SHELL…, TEXT] would name bash
    'ENTRYPOINT ["tini", "--"]\nCMD gunicorn app:app',  # a CMD an ENTRYPOINT receives: its form is its argv
])
def test_a_shell_form_command_that_would_run_under_the_new_shell_keeps_it_away(command):
    text = f"FROM debian:12\nRUN curl -s x | sh\n{command}\n"
    result = _fix(text, unsafe=True)
    assert result.fixed == text and "would run under /bin/bash" in result.remaining[0].reason


def test_with_df503_the_command_keeps_sh_and_the_runs_get_pipefail():
    # DF503 writes the exec form [/bin/sh, -c, "exec …"] first; the next pass adds the SHELL, and the guard
    # reads the command as the same /bin/sh one
    text = 'FROM debian:12\nRUN curl -s x | sh\nCMD gunicorn --workers "$WORKERS" app:app\n'
    result = fix_text(text, "Dockerfile", Options(select=frozenset({"DF108", "DF503"})))
    assert result.withheld is None and result.error is None
    assert result.fixed == ('FROM debian:12\n' + BASH + 'RUN curl -s x | sh\n'
                            'CMD ["/bin/sh", "-c", "exec gunicorn --workers \\"$WORKERS\\" app:app"]\n')
