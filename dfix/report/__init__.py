"""Reports: unified diffs (plain or colored) and the reporters, registered by format name.

A reporter is a ``output.Reporter`` subclass in a module of its own; ``REPORTERS`` names it as
"module:Class" so only the format a run asks for is imported. Adding a format: one module and one line.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .output import Reporter

REPORTERS = {
    "text": "text:TextReporter",
    "json": "json_format:JsonReporter",
    "sarif": "sarif:SarifReporter",
    "github": "github:GithubReporter",
}


def make_reporter(
    output_format: str, out: TextIO, mode: str, quiet: bool, color: bool, repos: bool, diffs: bool = True
) -> Reporter:
    module, _, name = REPORTERS.get(output_format, REPORTERS["text"]).partition(":")
    reporter = getattr(import_module(f"{__name__}.{module}"), name)
    if module == "text":  # the only format that colors, tables repositories and may leave diffs to the caller
        return reporter(out, mode, quiet, color, repos, diffs)
    return reporter(out, mode, quiet)
