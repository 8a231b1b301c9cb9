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


def test_a_change_is_allowed_by_the_facet_s_full_name_its_last_parts_or_its_stage():
    before = {"final.base-tag": ":1", "stage0.runs": [1], "stage1.runs": [1], "final.env.PATH": ["a"], "final.user": []}
    after = {"final.base-tag": ":2", "stage0.runs": [2], "stage1.runs": [2], "final.env.PATH": ["b"], "final.user": ["x"]}
    assert differences(before, after) == sorted(before)
    allowed = frozenset({"base-tag", "stage0.*", "env.PATH", "final.user", "runs.x"})
    assert differences(before, after, allowed) == ["stage1.runs"]
    assert differences(before, {**after, "final.env.HOME": ["/"]}, allowed) == ["final.env.HOME", "stage1.runs"]
