"""Inline pragmas: what a Dockerfile's own comments tell dfix to leave alone.

    # dfix: ignore=DF101,DF104      the instruction below (codes, prefixes or hadolint codes)
    # dfix: ignore                  every finding on the instruction below
    # dfix: ignore-file             the whole file
    # hadolint ignore=DL3015        the instruction on the very next line, through each rule's hadolint codes
    # hadolint global ignore=DL3008 the whole file, likewise

Only top-level comment lines count (as tokenized: not a comment inside a continuation, which BuildKit
skips, nor a line of a heredoc body, which is the script's text). A `# dfix:` pragma may sit anywhere in
the block of comment lines right above its instruction; a hadolint pragma must be the line right above,
as hadolint itself reads it, so the two tools agree on what is suppressed. An instruction pragma applies
to findings reported on that instruction's first line; findings on other lines (DF601's .dockerignore,
reported on line 1) are reached only by `ignore-file` and global pragmas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from .syntax import Document, LineKind
from .syntax.tokenizer import GO_SPACE

_CODES = r"[A-Za-z0-9]+(?:[ \t]*,[ \t]*[A-Za-z0-9]+)*"
_DFIX = re.compile(rf"#[ \t]*dfix:[ \t]*(?:(?P<file>ignore-file)|ignore(?:[ \t]*=[ \t]*(?P<codes>{_CODES}))?)")
# hadolint's own grammar (Hadolint.Pragma): codes are made of D, L, S, C and digits, nothing may follow
_HADOLINT = re.compile(r"#[ \t]*hadolint[ \t]+(?P<global>global[ \t]+)?ignore[ \t]*=[ \t]*(?P<codes>[DLSC0-9]+(?:[ \t]*,[ \t]*[DLSC0-9]+)*)")


def matches(code: str, hadolint: Iterable[str], patterns: Iterable[str]) -> bool:
    """Whether a rule is named by any of `patterns`: its code, a prefix of it, or one of its hadolint codes."""
    return any(code.startswith(p) or p in hadolint for p in patterns)


@dataclass
class _Ignore:
    everything: bool = False
    patterns: set[str] = field(default_factory=set)  # dfix codes, prefixes, hadolint codes
    hadolint: set[str] = field(default_factory=set)


@dataclass
class Pragmas:
    whole_file: bool = False
    global_hadolint: frozenset[str] = frozenset()
    by_line: dict[int, _Ignore] = field(default_factory=dict)  # 1-based first line of an instruction

    @classmethod
    def of(cls, doc: Document) -> "Pragmas":
        if "dfix:" not in doc.text and "hadolint" not in doc.text:
            return _NONE
        text = doc.text
        lines = doc.lines
        found: dict[int, tuple[str, object]] = {}
        whole_file, global_hadolint = False, set()
        for index, line in enumerate(lines):
            if line.kind is not LineKind.COMMENT:
                continue
            parsed = _parse(text[line.start:line.end].strip(GO_SPACE))
            if parsed is None:
                continue
            kind, value = parsed
            if kind == "file":
                whole_file = True
            elif kind == "hadolint-global":
                global_hadolint.update(value)
            else:
                found[index] = parsed
        pragmas = cls(whole_file, frozenset(global_hadolint))
        if found and not whole_file:
            for ins in doc.instructions:
                ignore = _Ignore()
                above = ins.first_line - 1
                while above >= 0 and lines[above].kind is LineKind.COMMENT:
                    kind, value = found.get(above, ("", None))
                    if kind == "dfix":
                        if value is None:
                            ignore.everything = True
                        else:
                            ignore.patterns.update(value)
                    elif kind == "hadolint" and above == ins.first_line - 1:
                        ignore.hadolint.update(value)
                    above -= 1
                if ignore.everything or ignore.patterns or ignore.hadolint:
                    pragmas.by_line[ins.line_number] = ignore
        return pragmas

    def suppresses(self, code: str, line: int, hadolint: tuple[str, ...]) -> bool:
        if self.whole_file or not self.global_hadolint.isdisjoint(hadolint):
            return True
        ignore = self.by_line.get(line)
        if ignore is None:
            return False
        return ignore.everything or matches(code, hadolint, ignore.patterns) or not ignore.hadolint.isdisjoint(hadolint)


_NONE = Pragmas()


def _parse(comment: str) -> tuple[str, object] | None:
    match = _DFIX.fullmatch(comment)
    if match:
        if match["file"]:
            return "file", None
        codes = match["codes"]
        return "dfix", None if codes is None else frozenset(c.strip().upper() for c in codes.split(","))
    match = _HADOLINT.fullmatch(comment)
    if match:
        codes = frozenset(c.strip() for c in match["codes"].split(","))
        return ("hadolint-global" if match["global"] else "hadolint"), codes
    return None
