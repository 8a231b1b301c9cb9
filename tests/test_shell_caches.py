"""The caches behind the shell reading of RUNs hand out what a fresh reading would."""

from __future__ import annotations

from dfix.rules import _shell
from dfix.rules._shell import package_commands, run_scripts
from dfix.syntax import shell, tokenize
from dfix.syntax.shell import Script, script_of


def _words(doc, ins):
    return [(w.value, doc.text[w.start:w.end]) for c in script_of(doc, ins).commands for w in c.words]


def test_a_run_read_first_at_one_place_is_read_right_at_another():
    """A text's first Script is built at its own offsets; the same text elsewhere (earlier or later in a
    file, non-ASCII text included) gets offsets of its own, and the first Script is left as it was."""
    shell._PARSED.clear()
    shell._PLACED.clear()
    run = "RUN X=é apt-get install -y \"ç a\" 'b' c$D && echo ü\n"
    far = tokenize("FROM alpine:3.20 AS build\nUSER root\n" + run)
    first = script_of(far, far.instructions[-1])
    before = repr(first)
    expected = [("apt-get", "apt-get"), ("install", "install"), ("-y", "-y"), ("ç a", '"ç a"'), ("b", "'b'"),
                (None, "c$D"), ("echo", "echo"), ("ü", "ü")]
    assert _words(far, far.instructions[-1]) == expected
    for text in ("FROM a\n" + run, "FROM alpine:3.20 AS build\nUSER root\nUSER nobody\n" + run):
        doc = tokenize(text)
        assert _words(doc, doc.instructions[-1]) == expected
        assert script_of(doc, doc.instructions[-1]).commands[0].assignments == {"X": "é"}
    assert repr(first) == before


def test_package_commands_are_the_scripts_own_even_under_a_reused_id():
    """The cache is keyed by the script's id: an entry left by another script under that id (as when a
    script is freed and its id reused) must not be answered."""
    doc = tokenize("FROM a\nRUN apt-get install -y curl && pip install flask\n")
    script = script_of(doc, doc.instructions[1])
    other_doc = tokenize("FROM a\nRUN apk add git\n")
    other = script_of(other_doc, other_doc.instructions[1])
    list(package_commands(other, "apk"))
    _shell._PACKAGES[id(script)] = _shell._PACKAGES[id(other)]  # what an id reused by `script` would find
    assert [p.tool for p in package_commands(script, "apk")] == []
    assert [w.value for p in package_commands(script, "apt", "install") for w in p.operands] == ["curl"]
    assert [w.value for p in package_commands(script, "pip") for w in p.operands] == ["flask"]
    assert [w.value for p in package_commands(other, "apk", "add") for w in p.operands] == ["git"]
    assert list(package_commands(Script(True, script.commands[1:]), "apt")) == []


def test_run_scripts_answers_each_ask_and_each_onbuild_alike():
    doc = tokenize("FROM a\nRUN echo a\nONBUILD RUN echo b\nONBUILD COPY . .\nRUN <<EOF\necho c\nEOF\n")
    for _ in range(2):
        assert [(ins.index, run.keyword) for ins, run, _ in run_scripts(doc)] == [(1, "RUN"), (2, "RUN"), (4, "RUN")]
        assert [ins.index for ins, _, _ in run_scripts(doc, onbuild=False)] == [1, 4]
        runs = run_scripts(doc)
        next(runs)
        assert [ins.index for ins, _, _ in run_scripts(doc)] == [1, 2, 4]  # a second ask does not share the first's place
        assert [ins.index for ins, _, _ in runs] == [2, 4]
