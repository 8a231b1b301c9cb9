"""Docker's .dockerignore matching (moby/patternmatcher): Go filepath.Match plus `**`, `!` exceptions,
a leading `/` dropped, the last matching pattern wins, and a path is excluded when it or any of its
parent directories matches."""

from __future__ import annotations

import functools
import posixpath
import re

from ..records import record


@record(frozen=True)
class _Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]


def _clean(pattern: str) -> str:
    pattern = posixpath.normpath(pattern.strip().replace("\\", "/"))
    return pattern.lstrip("/") or "."


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    out = ["^"]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern.startswith("**", i):
                i += 2
                if i < len(pattern) and pattern[i] == "/":
                    i += 1
                    out.append("(.*/)?")
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1:end]
                if body.startswith("^"):
                    body = "!" + body[1:]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return re.compile("".join(out))


class DockerIgnore:
    def __init__(self, lines: list[str]) -> None:
        self.patterns: list[_Pattern] = []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            exclusion = line.startswith("!")
            if exclusion:
                line = line[1:].strip()
            cleaned = _clean(line)
            self.patterns.append(_Pattern(cleaned, exclusion, _compile(cleaned)))

    @classmethod
    def of(cls, context) -> DockerIgnore | None:
        """The ignore rules BuildKit applies for the context's Dockerfile, as pending fixes leave them."""
        text = context.read_text(context.ignore_file())
        return None if text is None else parsed(text)

    def ignored(self, rel: str) -> bool:
        rel = _clean(rel)
        parents = []
        parts = rel.split("/")
        for k in range(1, len(parts) + 1):
            parents.append("/".join(parts[:k]))
        matched = False
        for pattern in self.patterns:
            if any(pattern.regex.match(p) for p in parents):
                matched = not pattern.exclusion
        return matched


@functools.lru_cache(maxsize=64)
def parsed(text: str) -> DockerIgnore:
    """The rules of an ignore file's text, read once: each pass over a Dockerfile reads the same file again,
    and the guard once more. Nothing changes a DockerIgnore once built."""
    return DockerIgnore(text.splitlines())
