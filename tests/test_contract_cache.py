"""The contract keeps what it reads of a shell text by the text: a later document with another text must
get its own answer, and one with the same text the same."""

from __future__ import annotations

from dfix.contract import contract, differences
from dfix.syntax.document import tokenize


def _shell_cmd(text: str) -> dict:
    return contract(tokenize(f'FROM alpine:3.19\nCMD ["/bin/sh", "-c", "{text}"]\n'))


def test_a_shell_text_s_key_follows_the_text():
    first = _shell_cmd("exec uvicorn app:app --reload")
    assert first["final.cmd"] == [("argv", ("/bin/sh", "-c", ("uvicorn", "app:app")))]
    assert first["final.command-dev-flags"] == [("--reload",)]
    other = _shell_cmd("exec uvicorn other:app")
    assert differences(first, other) == ["final.cmd", "final.command-dev-flags"]
    assert other["final.cmd"] == [("argv", ("/bin/sh", "-c", ("uvicorn", "other:app")))]
    assert differences(first, _shell_cmd("exec uvicorn app:app --reload")) == []
    # the `exec` before the last command is not part of the contract, whichever text was read first
    assert differences(_shell_cmd("uvicorn app:app --reload"), first) == []
