"""Lossless tokenizer that follows BuildKit's line rules (frontend/dockerfile/parser).

Every physical line keeps its offset and EOL, so rendering is the identity and every edit is a splice
on the original text. The grouping of lines into instructions copies BuildKit's ``Parse`` loop:
directives at the top, the escape character, continuations (not after an escaped escape), comment and
empty lines skipped inside a continuation, heredoc bodies after the logical line, CRLF, a BOM.
"""

from __future__ import annotations

import json
import re
from enum import Enum
from itertools import accumulate
from typing import Sequence

from ..records import field, record
from .errors import DockerfileSyntaxError

# Go's unicode.IsSpace, which BuildKit uses to trim; Python's str.isspace also counts \x1c-\x1f.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
BOM = "\ufeff"

_DIRECTIVE = re.compile(r"^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$")
KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_HEREDOC_WORD = re.compile(r"^(\d*)<<(-?)([^<]*)$")
_SPLIT_SPACE = "\t\v\f\r "  # BuildKit reWhitespace
HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})


class LineKind(Enum):
    DIRECTIVE = "directive"
    COMMENT = "comment"
    BLANK = "blank"
    CODE = "code"  # first line of an instruction
    CONT_CODE = "cont-code"  # a later line of the instruction's logical line
    CONT_COMMENT = "cont-comment"  # skipped by BuildKit inside a continuation
    CONT_BLANK = "cont-blank"  # skipped by BuildKit inside a continuation
    HEREDOC_BODY = "heredoc-body"
    HEREDOC_END = "heredoc-end"


# Enum members as module constants: on Python 3.11 each `LineKind.X` read costs ~0.2 µs, and the tokenizer
# reads one per line.
_DIRECTIVE_LINE, _COMMENT, _BLANK, _CODE, _CONT_CODE, _CONT_COMMENT, _CONT_BLANK, _HEREDOC_BODY, _HEREDOC_END = (
    LineKind.DIRECTIVE, LineKind.COMMENT, LineKind.BLANK, LineKind.CODE, LineKind.CONT_CODE, LineKind.CONT_COMMENT,
    LineKind.CONT_BLANK, LineKind.HEREDOC_BODY, LineKind.HEREDOC_END)


@record(slots=True)
class Line:
    start: int  # offset of the first character (after the BOM on the first line)
    end: int  # offset just past the content, before the EOL
    eol: str  # "\n", "\r\n" or "" (last line without a final newline)
    kind: LineKind = LineKind.BLANK
    instruction: int = -1  # index of the owning instruction, -1 for top-level comments/blanks

    @property
    def stop(self) -> int:
        """Offset just past the EOL."""
        return self.end + len(self.eol)


@record(slots=True)
class Directive:
    name: str  # lower case
    value: str
    line: int


@record(slots=True)
class Heredoc:
    name: str
    chomp: bool  # <<- strips leading tabs
    expand: bool  # unquoted name: the body is expanded
    fd: int | None
    marker: tuple[int, int]  # logical offsets of the <<WORD marker
    body_lines: range  # physical line indices of the body
    end_line: int  # physical line index of the terminator


@record(slots=True)
class RawInstruction:
    """One instruction as BuildKit groups it: its lines and its joined logical line."""

    first_line: int
    last_line: int
    logical: str  # what BuildKit sees, after trimming and joining continuations
    offsets: Sequence[int]  # source offset of each logical character (a range when it is one piece)
    heredocs: list[Heredoc] = field(default_factory=list)


@record(slots=True)
class Tokens:
    text: str
    bom: bool
    lines: list[Line]
    directives: list[Directive]
    escape: str
    instructions: list[RawInstruction]


class _DirectiveParser:
    def __init__(self) -> None:
        self.done = False
        self.escape = "\\"
        self.found: list[Directive] = []

    def feed(self, line_text: str, index: int) -> bool:
        """Feed a line with leading whitespace trimmed; returns True when it was a directive."""
        if self.done:
            return False
        match = _DIRECTIVE.match(line_text)
        if not match:
            self.done = True
            return False
        name = match.group(1).lower()
        if name not in KNOWN_DIRECTIVES:
            self.done = True
            return False
        if any(d.name == name for d in self.found):
            raise DockerfileSyntaxError(f"only one {name} parser directive can be used", index + 1)
        value = match.group(2)
        if name == "escape":
            if value not in ("\\", "`"):
                raise DockerfileSyntaxError(f"invalid escape token {value!r} does not match ` or \\", index + 1)
            self.escape = value
        self.found.append(Directive(name, value, index))
        return True


def tokenize_text(text: str) -> Tokens:
    bom = text.startswith(BOM)
    base = 1 if bom else 0
    # Lines first, as plain lists: split on "\n" only (Go's bufio.ScanLines); a lone "\r" is no line break.
    # ``segs`` holds what BuildKit's trimNewline leaves of each line: every trailing CR stripped.
    pieces = text[base:].split("\n")
    last = pieces.pop()
    if "\r" not in text:  # the usual file: every line ends in "\n", and the loop below is all C calls
        lengths = [len(piece) + 1 for piece in pieces]
        starts = list(accumulate(lengths, initial=base))
        pos = starts.pop()
        ends = [start + size - 1 for start, size in zip(starts, lengths)]
        eols = ["\n"] * len(pieces)
        segs = pieces
    else:
        starts, ends, eols, segs = [], [], [], []
        pos = base
        for piece in pieces:
            starts.append(pos)
            if piece.endswith("\r"):
                ends.append(pos + len(piece) - 1)
                eols.append("\r\n")
                segs.append(piece.rstrip("\r"))
            else:
                ends.append(pos + len(piece))
                eols.append("\n")
                segs.append(piece)
            pos += len(piece) + 1
    if last or (bom and not pieces):  # a last line without EOL; a BOM alone is one empty line
        starts.append(pos)
        ends.append(pos + len(last))
        eols.append("")
        segs.append(last.rstrip("\r"))
    n = len(segs)
    kinds = [_BLANK] * n
    owners = [-1] * n
    directives = _DirectiveParser()
    escape = "\\"
    instructions: list[RawInstruction] = []
    i = 0
    while i < n:
        seg = segs[i]
        content = seg.lstrip(GO_SPACE)
        if not directives.done:  # directives only lead the file
            if directives.feed(content, i):
                kinds[i] = _DIRECTIVE_LINE
                i += 1
                continue
            escape = directives.escape
        if not content:
            i += 1
            continue
        if content[0] == "#":
            kinds[i] = _COMMENT
            i += 1
            continue

        first = i
        kinds[i] = _CODE
        start = starts[i] + len(seg) - len(content)
        # A line continues when it ends in the escape, then only spaces and tabs, and that escape is not
        # itself escaped: BuildKit's `([^\\])\\[ \t]*$|^\\[ \t]*$`, read from the end.
        kept = content.rstrip(" \t")
        if not kept.endswith(escape) or (len(kept) > 1 and kept[-2] == escape):
            logical = content
            offsets: range | list[int] = range(start, start + len(content))  # one piece: no list needed
        else:
            parts = [content[:len(kept) - 1]]
            offsets = list(range(start, start + len(kept) - 1))
            while i + 1 < n:
                i += 1
                seg = segs[i]
                # one C call for the indentation a continuation line usually has, not a test per character
                content = seg.lstrip(GO_SPACE)
                if not content:
                    kinds[i] = _CONT_BLANK
                    continue
                if content[0] == "#":
                    kinds[i] = _CONT_COMMENT
                    continue
                kinds[i] = _CONT_CODE
                start = starts[i]
                kept = seg.rstrip(" \t")  # the whole line: its indentation is part of the logical line
                if not kept.endswith(escape) or (len(kept) > 1 and kept[-2] == escape):
                    parts.append(seg)
                    offsets.extend(range(start, start + len(seg)))
                    break
                parts.append(seg[:len(kept) - 1])
                offsets.extend(range(start, start + len(kept) - 1))
            logical = "".join(parts)
        raw = RawInstruction(first, i, logical, offsets)
        # "<<" first: it is cheap, and without it there is no heredoc marker to find
        if "<<" in logical and _can_contain_heredoc(logical):
            for doc in _heredoc_markers(logical):
                body_start = i + 1
                terminated = False
                while i + 1 < n:
                    i += 1
                    candidate = segs[i]
                    if doc.chomp:
                        candidate = candidate.lstrip("\t")
                    if candidate == doc.name:
                        kinds[i] = _HEREDOC_END
                        terminated = True
                        break
                    kinds[i] = _HEREDOC_BODY
                if not terminated:
                    raise DockerfileSyntaxError("unterminated heredoc", first + 1)
                doc.body_lines = range(body_start, i)
                doc.end_line = i
                raw.heredocs.append(doc)
            raw.last_line = i
        owners[first:i + 1] = [len(instructions)] * (i + 1 - first)
        instructions.append(raw)
        i += 1
    lines = list(map(Line, starts, ends, eols, kinds, owners))
    return Tokens(text, bom, lines, directives.found, directives.escape, instructions)


def split_keyword(logical: str) -> tuple[str, int, int]:
    """The keyword as written, where it ends and where its arguments start (BuildKit splitCommand)."""
    size = len(logical)
    i = 0
    while i < size and logical[i] in GO_SPACE:
        i += 1
    k = i
    while k < size and logical[k] not in _SPLIT_SPACE:
        k += 1
    rest = k
    while rest < size and logical[rest] in _SPLIT_SPACE:
        rest += 1
    return logical[i:k], k, rest


def _can_contain_heredoc(logical: str) -> bool:
    keyword, _, rest = split_keyword(logical)
    keyword = keyword.upper()
    if keyword == "ONBUILD":
        inner = logical[rest:]
        keyword, _, inner_rest = split_keyword(inner)
        keyword = keyword.upper()
        rest += inner_rest
    if keyword not in HEREDOC_INSTRUCTIONS:
        return False
    return not is_json_form(_skip_flags_text(logical[rest:]))


def _skip_flags_text(args: str) -> str:
    from .arguments import parse_flags

    _, rest = parse_flags(args)
    return args[rest:]


def is_json_form(args: str) -> bool:
    """BuildKit's parseMaybeJSON: a JSON array of strings, else shell form."""
    stripped = args.lstrip(GO_SPACE)
    if not stripped.startswith("["):
        return False
    try:
        value = json.loads(stripped.rstrip(GO_SPACE))
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def shell_words(line: str) -> list[tuple[str, int, int]]:
    """Words of a line with quotes kept, as BuildKit's lexer splits them in raw mode."""
    words: list[tuple[str, int, int]] = []
    i = 0
    size = len(line)
    while i < size:
        while i < size and line[i] in " \t\r\n\v\f":
            i += 1
        if i >= size:
            break
        start = i
        quote = ""
        while i < size:
            ch = line[i]
            if quote:
                if ch == "\\" and quote == '"' and i + 1 < size:
                    i += 2
                    continue
                if ch == quote:
                    quote = ""
                i += 1
                continue
            if ch in " \t\r\n\v\f":
                break
            if ch == "\\" and i + 1 < size:
                i += 2
                continue
            if ch in "'\"":
                quote = ch
            i += 1
        words.append((line[start:i], start, i))
    return words


def unquote_word(word: str) -> str:
    """Remove shell quoting and backslash escapes from one word."""
    out: list[str] = []
    i = 0
    quote = ""
    while i < len(word):
        ch = word[i]
        if quote == "'":
            if ch == "'":
                quote = ""
            else:
                out.append(ch)
        elif quote == '"':
            if ch == '"':
                quote = ""
            elif ch == "\\" and i + 1 < len(word) and word[i + 1] in '"\\$`':
                i += 1
                out.append(word[i])
            else:
                out.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == "\\" and i + 1 < len(word):
            i += 1
            out.append(word[i])
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _heredoc_markers(logical: str) -> list[Heredoc]:
    docs: list[Heredoc] = []
    if "<<" not in logical:
        return docs
    for word, start, end in shell_words(logical):
        match = _HEREDOC_WORD.match(word)
        if not match or not match.group(3):
            continue
        fd, chomp, rest = match.groups()
        name = unquote_word(rest)
        if not name:
            continue
        docs.append(
            Heredoc(
                name=name,
                chomp=chomp == "-",
                expand=name == rest,
                fd=int(fd) if fd else None,
                marker=(start, end),
                body_lines=range(0),
                end_line=-1,
            )
        )
    return docs
