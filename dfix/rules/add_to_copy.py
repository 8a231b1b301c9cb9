from __future__ import annotations

import re

from ..lazy_regex import lazy_compile
from ..syntax import Edit
from ..syntax.document import add_source_is_remote
from .base import Rule, Safety

# Suffixes BuildKit may unpack (hadolint's list plus zstd/lz4); judged case-insensitively to stay strict.
_ARCHIVE = lazy_compile(
    r"\.(tar|z|bz2|gz|lz|lzma|lz4|tz|tb2|tbz|tbz2|tgz|tlz|tpz|txz|xz|zst|tzst|zip|rpm|deb|whl|jar|7z)$",
    re.IGNORECASE,
)
_COPY_FLAGS = frozenset({"chown", "chmod", "link", "exclude"})


class AddToCopy(Rule):
    code = "DF301"
    name = "add-to-copy"
    hadolint = ("DL3020",)
    title = "ADD used to copy local files"
    safety = Safety.SAFE
    what = "Replaces ADD with COPY where every source is a local file or directory that ADD would not unpack."
    why = (
        "ADD also fetches URLs, clones git repositories and unpacks archives; COPY says plainly that files are "
        "copied, so a reader (and the next maintainer renaming a file to .tar) gets no surprise."
    )
    example = ("ADD requirements.txt /app/", "COPY requirements.txt /app/")
    fix_safety = (
        "Safe: never applied to URLs, git sources, `--checksum`/`--keep-git-dir`/`--unpack`, sources with "
        "variables, archives (by name, and by content where the build context has the file), heredocs or ONBUILD."
    )

    def check(self, doc, ctx):
        context = ctx.build_context
        for ins in doc.instructions:
            if ins.keyword != "ADD":
                continue
            message = "ADD of local files; COPY says what it does"
            if ins.heredocs:
                continue
            if not _is_local_copy(ins):
                continue  # URLs, git sources, archives: ADD is the right instruction
            reason = _unproven(ins, context)
            if reason:
                yield self.finding(ins.line_number, message, reason=reason)
                continue
            start, end = ins.keyword_span
            word = doc.text[start:end]
            replacement = "copy" if word.islower() else "COPY" if word.isupper() else "Copy"
            yield self.finding(ins.line_number, message, [Edit(start, end, replacement)])


def _sources(ins) -> list[str]:
    return ins.json_args[:-1] if ins.is_json else [w for w, _, _ in ins.words[:-1]]


def _is_local_copy(ins) -> bool:
    """ADD that merely copies: no ADD-only flag, no remote source, nothing named like an archive."""
    if {f.name for f in ins.flags} - _COPY_FLAGS:
        return False
    sources = _sources(ins)
    return bool(sources) and not any(
        add_source_is_remote(s) or _ARCHIVE.search(s.rstrip("/")) for s in sources
    )


def _unproven(ins, context) -> str | None:
    for source in _sources(ins):
        if "$" in source:
            return f"{source} depends on a variable, so it may name an archive or a URL"
        if context is None:
            continue
        matches = context.resolve(source)
        if matches is None:
            return f"{source} is outside the build context"
        for path in matches:
            if context.is_archive(path):
                return f"{source} is an archive that ADD unpacks"
    return None
