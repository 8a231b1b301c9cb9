"""The caches behind the shell reading of RUNs hand out what a fresh reading would."""

from __future__ import annotations

from dfix.syntax import shell, tokenize
from dfix.syntax.shell import script_of


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
