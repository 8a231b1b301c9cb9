"""dfix.lazy_regex: a pattern compiled on first use answers as re.compile's does, and a run compiles only
the patterns the file in front of it needs."""

from __future__ import annotations

import copy
import os
import pickle
import re
import subprocess
import sys

from dfix.lazy_regex import lazy_compile

from .conftest import ROOT


def test_a_lazy_pattern_answers_as_the_compiled_one():
    source, flags = r"(?P<name>[a-z]+)=(?P<value>\d+)", re.IGNORECASE
    lazy, eager = lazy_compile(source, flags), re.compile(source, flags)
    text = "A=1 b=22 c=x D=4"
    assert lazy.search(text).groupdict() == eager.search(text).groupdict()
    assert lazy.match(text).span() == eager.match(text).span()
    assert lazy.fullmatch("x=1") is not None and lazy.fullmatch("x=") is None
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in eager.finditer(text)]
    assert lazy.findall(text) == eager.findall(text)
    assert lazy.sub(r"\g<value>", text) == eager.sub(r"\g<value>", text)
    assert lazy.split(text) == eager.split(text)
    assert (lazy.pattern, lazy.flags, lazy.groupindex) == (eager.pattern, eager.flags, eager.groupindex)
    assert lazy.compiled is eager  # re's cache: the same object, fit for re.sub(pattern, ...)
    assert copy.deepcopy(lazy).search(text).group() == "A=1" and pickle.loads(pickle.dumps(lazy)).pattern == source


def test_a_one_file_check_compiles_only_the_patterns_its_file_needs(tmp_path):
    """A file without comments never asks for the pragma patterns; one with a pragma does."""
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['dfix', '--check', 'Dockerfile']\n"
        "try:\n    runpy.run_module('dfix', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "from dfix import pragmas\n"
        "print('COMPILED', sorted(k for k in ('_DFIX', '_HADOLINT', '_MEANT_FOR_DFIX')\n"
        "      if len(vars(getattr(pragmas, k))) > 1), file=sys.stderr)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    seen = {}
    for name, text in (("plain", "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"),
                       ("pragma", "FROM debian:12\n# hadolint ignore=DL3008\nRUN apt-get update && apt-get install -y curl\n")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "Dockerfile").write_text(text)
        done = subprocess.run([sys.executable, "-c", probe], cwd=folder, capture_output=True, text=True, env=env)
        seen[name] = done.stderr.rsplit("COMPILED", 1)[-1].strip()
    assert seen["plain"] == "[]"
    assert seen["pragma"] != "[]"
