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

A comment that looks meant for dfix but is not one of the forms above (`# dfix: ignroe`, `# dfix
ignore=DF101`, codes followed by a reason) suppresses nothing and gets a warning, as does a `# dfix:`
code that names no rule. hadolint's pragmas are hadolint's too: codes dfix has no rule for are fine there.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from .lazy_regex import lazy_compile
from .records import field, record
from .syntax import Document, LineKind
from .syntax.tokenizer import GO_SPACE

_CODES = r"[A-Za-z0-9]+(?:[ \t]*,[ \t]*[A-Za-z0-9]+)*"
_DFIX = lazy_compile(rf"#[ \t]*dfix:[ \t]*(?:(?P<file>ignore-file)|ignore(?:[ \t]*=[ \t]*(?P<codes>{_CODES}))?)")
# hadolint's own grammar (Hadolint.Pragma): codes are made of D, L, S, C and digits, nothing may follow
_HADOLINT = lazy_compile(r"#[ \t]*hadolint[ \t]+(?P<global>global[ \t]+)?ignore[ \t]*=[ \t]*(?P<codes>[DLSC0-9]+(?:[ \t]*,[ \t]*[DLSC0-9]+)*)")
# what reads as an attempt at a dfix pragma: `# dfix:` anything, or `# dfix ignore` without the colon
_MEANT_FOR_DFIX = lazy_compile(r"#[ \t]*dfix[ \t]*(?::|ignore)", re.IGNORECASE)
_DFIX_PREFIX = lazy_compile(rf"#[ \t]*dfix:[ \t]*ignore[ \t]*=[ \t]*{_CODES}")
_PRAGMA_FORMS = "`# dfix: ignore`, `# dfix: ignore=CODE,...` or `# dfix: ignore-file`"


def matches(code: str, hadolint: Iterable[str], patterns: Iterable[str]) -> bool:
    """Whether a rule is named by any of `patterns`: its code, a prefix of it, or one of its hadolint codes."""
    return any(code.startswith(p) or p in hadolint for p in patterns)


@record
class _Ignore:
    everything: bool = False
    patterns: set[str] = field(default_factory=set)  # dfix codes, prefixes, hadolint codes
    hadolint: set[str] = field(default_factory=set)


@record
class Pragmas:
    whole_file: bool = False
    global_hadolint: frozenset[str] = frozenset()
    by_line: dict[int, _Ignore] = field(default_factory=dict)  # 1-based first line of an instruction
    # (1-based line, message): pragmas that are malformed or name no rule; they do not stop the file
    warnings: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def of(cls, doc: Document, unknown_code: Callable[[str], str | None] | None = None) -> "Pragmas":
        """The file's pragmas; with `unknown_code` (the catalogue's check, which this module cannot import: the
        rules read pragmas too), also a warning for each `# dfix:` code that names no rule."""
        # runs every pass on every file: lower() and two substring tests cost ~2 us on a typical file, where a
        # case-insensitive regex search cost ~34 us (it cannot use a literal scan)
        lowered = doc.text.lower()
        if "dfix" not in lowered and "hadolint" not in lowered:
            return _NONE
        text = doc.text
        lines = doc.lines
        found: dict[int, tuple[str, object]] = {}
        whole_file, global_hadolint = False, set()
        warnings: list[tuple[int, str]] = []
        for index, line in enumerate(lines):
            if line.kind is not LineKind.COMMENT:
                continue
            comment = text[line.start:line.end].strip(GO_SPACE)
            parsed = _parse(comment)
            if parsed is None:
                problem = _malformed(comment)
                if problem:
                    warnings.append((index + 1, problem))
                continue
            kind, value = parsed
            if kind == "dfix" and value is not None and unknown_code is not None:
                warnings.extend((index + 1, f"ignore={code}: {why}") for code in sorted(value)
                                if (why := unknown_code(code)) is not None)
            if kind == "file":
                whole_file = True
            elif kind == "hadolint-global":
                global_hadolint.update(value)
            else:
                found[index] = parsed
        pragmas = cls(whole_file, frozenset(global_hadolint), warnings=warnings)
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


def _malformed(comment: str) -> str | None:
    """Why a comment that is no pragma looks like a broken dfix one, or None when it is just a comment."""
    if not _MEANT_FOR_DFIX.match(comment):
        return None
    if _DFIX_PREFIX.match(comment):
        return ("malformed pragma, ignored: text after the codes (a pragma is the whole comment; "
                "put the reason on a comment line of its own above it)")
    if re.fullmatch(r"#[ \t]*dfix:[ \t]*ignore[ \t]*=[ \t]*", comment):
        return "malformed pragma, ignored: no codes after `ignore=` (`# dfix: ignore` alone ignores every finding)"
    return f"malformed pragma, ignored: write {_PRAGMA_FORMS}"


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
