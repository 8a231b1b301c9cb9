"""Instruction arguments as BuildKit reads them: builder flags, JSON or shell form, key=value pairs."""

from __future__ import annotations

import functools
import json

from ..records import record

_SPACE = " \t\n\v\f\r\x85\xa0"


@record(frozen=True, slots=True)
class Flag:
    name: str  # without the leading "--"
    value: str | None  # None for a bare --flag
    start: int  # offsets into the text given to parse_flags
    end: int


def parse_flags(args: str) -> tuple[list[Flag], int]:
    """BuildKit's extractBuilderFlags: leading ``--name[=value]`` words; returns them and where the rest starts."""
    flags: list[Flag] = []
    pos = 0
    size = len(args)
    while True:
        while pos < size and args[pos] in _SPACE:
            pos += 1
        if pos + 1 >= size or args[pos] != "-" or args[pos + 1] != "-":
            return flags, min(pos, size)
        start = pos
        word: list[str] = []
        quote = ""
        while pos < size:
            ch = args[pos]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == "\\" and pos + 1 < size:
                    pos += 1
                    word.append(args[pos])
                else:
                    word.append(ch)
                pos += 1
                continue
            if ch in _SPACE:
                break
            if ch in "'\"":
                quote = ch
            elif ch == "\\":
                if pos + 1 < size:
                    pos += 1
                    word.append(args[pos])
            else:
                word.append(ch)
            pos += 1
        text = "".join(word)
        if text == "--":
            while pos < size and args[pos] in _SPACE:
                pos += 1
            return flags, pos
        body = text[2:]
        name, eq, value = body.partition("=")
        flags.append(Flag(name.lower(), value if eq else None, start, pos))


def split_words(args: str) -> list[tuple[str, int, int]]:
    """Whitespace-delimited words (BuildKit parseStringsWhitespaceDelimited), with their offsets."""
    words = []
    pos = 0
    size = len(args)
    while pos < size:
        while pos < size and args[pos] in _SPACE:
            pos += 1
        if pos >= size:
            break
        start = pos
        while pos < size and args[pos] not in _SPACE:
            pos += 1
        words.append((args[start:pos], start, pos))
    return words


def parse_key_values(args: str, escape: str = "\\") -> list[tuple[str, str]]:
    """ENV/LABEL/ARG pairs: ``k=v k2="v 2"`` or the legacy ``K value with spaces`` form."""
    return list(_key_values(args, escape))  # a list of its own: the caller may change it


@functools.lru_cache(maxsize=1024)
def _key_values(args: str, escape: str) -> tuple[tuple[str, str], ...]:
    """Read once per text: every pass asks again for the ENV in force at each instruction."""
    words = _quoted_words(args, escape)
    if not words:
        return ()
    if "=" not in words[0][0]:
        key = words[0][1]
        rest = args[words[0][2]:].strip(_SPACE)
        return ((key, _unquote(rest, escape)),)
    pairs = []
    for raw, _, _ in words:
        key, _, value = _split_pair(raw, escape)
        pairs.append((_unquote(key, escape), _unquote(value, escape)))
    return tuple(pairs)


def _quoted_words(args: str, escape: str) -> list[tuple[str, str, int]]:
    """(raw word, word up to '=', end offset) splitting on unquoted whitespace."""
    out = []
    pos = 0
    size = len(args)
    while pos < size:
        while pos < size and args[pos] in _SPACE:
            pos += 1
        if pos >= size:
            break
        start = pos
        quote = ""
        while pos < size:
            ch = args[pos]
            if quote:
                if ch == escape and quote == '"' and pos + 1 < size:
                    pos += 2
                    continue
                if ch == quote:
                    quote = ""
            elif ch in _SPACE:
                break
            elif ch == escape and pos + 1 < size:
                pos += 2
                continue
            elif ch in "'\"":
                quote = ch
            pos += 1
        raw = args[start:pos]
        out.append((raw, raw.split("=", 1)[0] if "=" in raw else raw, pos))
    return out


def _split_pair(raw: str, escape: str) -> tuple[str, str, str]:
    """Split at the first '=' outside quotes, so a quoted key may hold '='."""
    quote = ""
    i = 0
    while i < len(raw):
        ch = raw[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch == escape:
            i += 1
        elif ch in "'\"":
            quote = ch
        elif ch == "=":
            return raw[:i], "=", raw[i + 1:]
        i += 1
    return raw, "", ""


def _unquote(value: str, escape: str) -> str:
    out = []
    quote = ""
    i = 0
    while i < len(value):
        ch = value[i]
        if quote == "'":
            if ch == "'":
                quote = ""
            else:
                out.append(ch)
        elif ch == escape and i + 1 < len(value) and (quote != '"' or value[i + 1] in '"$' + escape):
            i += 1
            out.append(value[i])
        elif ch in "'\"" and (not quote or ch == quote):
            quote = "" if quote else ch
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def parse_mount(value: str) -> dict[str, str]:
    """``type=cache,target=/root/.cache/pip,sharing=locked`` -> dict; ``dst``/``destination`` read as target."""
    out: dict[str, str] = {}
    for part in value.split(","):
        key, eq, val = part.partition("=")
        key = key.strip().lower()
        if key in ("dst", "destination"):
            key = "target"
        out[key] = val.strip().strip("'\"") if eq else "true"
    out.setdefault("type", "bind")
    return out


_JSON_DECODER = json.JSONDecoder()  # holds no state between calls; building one per call costs more than the parse


def json_string_spans(args: str) -> list[tuple[str, int, int]] | None:
    """(value, start, end) of each string in a JSON array of strings, offsets into ``args``; None if not one."""
    decoder = _JSON_DECODER
    out: list[tuple[str, int, int]] = []
    pos = args.find("[")
    if pos == -1 or args[:pos].strip():
        return None
    pos += 1
    while True:
        while pos < len(args) and args[pos] in " \t\r\n":
            pos += 1
        if pos < len(args) and args[pos] == "]" and not out:
            return out
        if pos >= len(args) or args[pos] != '"':
            return None
        try:
            value, end = decoder.raw_decode(args, pos)
        except ValueError:
            return None
        out.append((value, pos, end))
        pos = end
        while pos < len(args) and args[pos] in " \t\r\n":
            pos += 1
        if pos < len(args) and args[pos] == ",":
            pos += 1
            continue
        if pos < len(args) and args[pos] == "]":
            return out
        return None
