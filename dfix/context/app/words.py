"""Command-line words as the servers read them: options and their values, ports, HOST:PORT binds, and the
shell's $NAME expansion."""

from __future__ import annotations

import re
from typing import Sequence

_TRUE_WORDS = {"1", "true", "yes", "on"}


def _options(words: Sequence[str], with_value: frozenset[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Split CLI words into (option, value) pairs and positionals; unknown options are taken as flags."""
    opts: list[tuple[str, str | None]] = []
    positional: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            positional.extend(words[i + 1:])
            break
        if word.startswith("--") and "=" in word:
            name, _, value = word.partition("=")
            opts.append((name, value))
        elif word in with_value:
            opts.append((word, words[i + 1] if i + 1 < len(words) else None))
            i += 1
        elif len(word) > 2 and word[0] == "-" and word[1] != "-" and word[:2] in with_value:
            opts.append((word[:2], word[2:].lstrip("=")))  # -b0.0.0.0:8000
        elif word.startswith("-") and len(word) > 1:
            opts.append((word, None))
        else:
            positional.append(word)
        i += 1
    return opts, positional


def _first_positional(words: list[str], with_value: frozenset[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Options up to the first positional word, and the words from there (a subcommand or program)."""
    opts: list[tuple[str, str | None]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            return opts, words[i + 1:]
        if not word.startswith("-") or word == "-":
            break
        if "=" in word and word.startswith("--"):
            name, _, value = word.partition("=")
            opts.append((name, value))
        elif word in with_value:
            opts.append((word, words[i + 1] if i + 1 < len(words) else None))
            i += 1
        else:
            opts.append((word, None))
        i += 1
    return opts, words[i:]


def _last(opts: list[tuple[str, str | None]], *names: str) -> str | None:
    found = None
    for name, value in opts:
        if name in names:
            found = value
    return found


def _has(opts: list[tuple[str, str | None]], *names: str) -> bool:
    return any(name in names for name, _ in opts)


def _port_number(text: str | None) -> int | None:
    if text is None or not text.strip().isdigit():
        return None
    value = int(text)
    return value if 0 < value < 65536 else None


def _split_hostport(bind: str) -> tuple[str | None, str | None]:
    """HOST:PORT, [v6]:PORT, :PORT or a bare HOST, as gunicorn, hypercorn and runserver write them."""
    if bind.startswith("["):
        host, _, rest = bind[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    if bind.count(":") == 1:
        host, _, port = bind.partition(":")
        return host or None, port
    if bind.isdigit():
        return None, bind
    return bind, None


def _expand(text: str, env: dict[str, str], used: list[str], missing: list[str]) -> str:
    """$NAME, ${NAME}, ${NAME:-default} and ${NAME-default} outside single quotes, as the shell would."""
    out: list[str] = []
    i, single, double = 0, False, False
    while i < len(text):
        ch = text[i]
        if ch == "\\" and not single and i + 1 < len(text):
            out.append(text[i:i + 2])
            i += 2
            continue
        if ch == "'" and not double:
            single = not single
        elif ch == '"' and not single:
            double = not double
        elif ch == "$" and not single:
            match = re.match(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))", text[i:])
            if match:
                name = match.group(1) or match.group(4)
                value = env.get(name)
                if match.group(2) and (value is None or (match.group(2) == ":-" and value == "")):
                    value = match.group(3)
                elif value is not None:
                    used.append(name)
                if value is None or not re.fullmatch(r"[\w.:/,@+=-]*", value):
                    missing.append(name)
                    out.append(match.group(0))
                else:
                    out.append(value)
                i += len(match.group(0))
                continue
        out.append(ch)
        i += 1
    return "".join(out)
