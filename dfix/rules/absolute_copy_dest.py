from __future__ import annotations

import json

from .. import base_images
from ..lazy_regex import lazy_compile
from ..syntax import Edit
from ..syntax.document import absolute_destination, relative_destination
from .base import Rule, Safety

# a JSON string literal, to find the destination (the last one) in `COPY ["src", "dest"]`
_JSON_STRING = lazy_compile(r'"(?:[^"\\]|\\.)*"')


class AbsoluteCopyDest(Rule):
    code = "DF203"
    name = "absolute-copy-dest"
    hadolint = ("DL3045",)
    title = "a COPY or ADD to a relative destination while no WORKDIR is set"
    safety = Safety.SAFE
    what = (
        "Writes the destination of a COPY or ADD as the absolute path it lands on when no WORKDIR of the "
        "Dockerfile is in force: the base image's own working directory joined with it (`.` under python's "
        "`/` becomes `/`, `dir/` becomes `/dir/`). Only the destination word changes: its quotes, the JSON "
        "form, the flags and line continuations stay."
    )
    why = (
        "A relative destination lands in whatever working directory the base image sets; nothing in the "
        "Dockerfile says where. Where it lands changes when the base image adds a WORKDIR, and whoever "
        "reads the file has to know the base image to know where the files are."
    )
    example = ("FROM python:3.12-slim\nCOPY requirements.txt .", "FROM python:3.12-slim\nCOPY requirements.txt /")
    fix_safety = (
        "Safe where the base image's working directory is known for certain: an official image's, from "
        "dfix's base-image table (python, debian, ubuntu, alpine, node and most others set none, so it is "
        "`/`; golang's is /go, php's /var/www/html, redis's /data). A row for a third-party image or a "
        "family of them (tiangolo/*, jupyter/*, pytorch/pytorch) gives the WORKDIR its Dockerfile sets "
        "today, which a new build may change: that fix needs --unsafe-fixes. A base the table does not "
        "know (or knows no WORKDIR of), one a build argument chooses, a Windows image, or a destination "
        "naming a variable is reported, not fixed. A `.` or a trailing `/` keeps its trailing `/`, so the "
        "destination is still read as a folder; the contract guard compares each destination resolved "
        "against the working directory, so `COPY . .` and `COPY . /` on python are the same copy."
    )

    def check(self, doc, ctx):
        for stage in doc.stages:
            chain = doc.stage_chain(stage)
            for ins in stage.body:
                if ins.keyword in ("COPY", "ADD") and not doc.workdir_set_before(ins):
                    found = self._check_copy(doc, chain, ins)
                    if found is not None:
                        yield found

    def _check_copy(self, doc, chain, ins):
        located = _destination(doc, ins)
        if located is None:
            return None
        dest, span = located
        if not relative_destination(dest):
            return None
        bare = dest[1:-1] if span[2] else dest
        message = f"{ins.keyword} to the relative destination {bare} while no WORKDIR is set"
        if "$" in bare:
            return self.finding(ins.line_number, message, reason="the destination names a build variable")
        workdir = base_images.workdir_at(doc, ins)
        if workdir is None:
            return self.finding(ins.line_number, message, reason=_unknown_reason(chain))
        target = absolute_destination(bare, workdir)
        if target is None:
            return self.finding(ins.line_number, message, reason=f"{bare} does not name one path once made absolute")
        if span[3] is None:
            return self.finding(ins.line_number, message, reason="the destination is split over lines or quoted in parts")
        text = json.dumps(target)[1:-1] if ins.is_json else target
        # no WORKDIR of the file is in force, so the table says where: certain only for an official image
        unsafe = not base_images.workdir_known_for_certain(chain)
        return self.finding(
            ins.line_number, f"{message}: it lands in {target}", [Edit(span[0], span[1], text)], unsafe=unsafe
        )


def _destination(doc, ins):
    """The destination as written and its source span (start, end, quoted, contiguous) of the part to
    replace: the text inside the quotes, or the whole word."""
    if ins.is_json:
        args = ins.json_args
        literals = list(_JSON_STRING.finditer(ins.logical, ins.args_logical))
        if len(args) < 2 or not literals or json.loads(literals[-1].group()) != args[-1]:
            return None
        lo, hi = literals[-1].start() + 1, literals[-1].end() - 1
        quoted = False
    else:
        words = ins.words
        if len(words) < 2 or ins.heredocs and words[-1][0].startswith("<<"):
            return None
        word, lo, hi = words[-1]
        quoted = len(word) >= 2 and word[0] == word[-1] and word[0] in "'\""
        if quoted:
            lo, hi = lo + 1, hi - 1
        elif any(q in word for q in "'\""):
            return None
    dest = ins.logical[lo - 1:hi + 1] if quoted else ins.logical[lo:hi]
    start, end = ins.source_span(lo, hi)
    contiguous = end - start == hi - lo or None
    return dest, (start, end, quoted, contiguous)


def _unknown_reason(chain) -> str:
    first = chain[0]
    if "$" in first.base:
        return f"a build argument chooses the base image ({first.base}), so its working directory is not known"
    facts = base_images.facts(first.base_expanded)
    if facts.os == "windows":
        return "the base image is a Windows image"
    return f"the base image's working directory is not known ({first.base_expanded} is not in dfix's base-image table)"


def with_absolute_destination(doc, ins) -> str:
    """The COPY/ADD's own text (ins.start to ins.stop) with a relative destination written as the absolute
    path it lands on, when no WORKDIR of the file is in force and the base's working directory is known:
    for a rule that writes a copy of the instruction elsewhere (a builder stage) and must not write a
    relative destination itself. Otherwise the text as it is."""
    text = doc.text[ins.start:ins.stop]
    if ins.keyword not in ("COPY", "ADD") or doc.workdir_set_before(ins):
        return text
    located = _destination(doc, ins)
    if located is None or not relative_destination(located[0]) or located[1][3] is None:
        return text
    dest, (start, end, quoted, _) = located
    workdir = base_images.workdir_at(doc, ins)
    target = absolute_destination(dest[1:-1] if quoted else dest, workdir) if workdir is not None else None
    if target is None:
        return text
    target = json.dumps(target)[1:-1] if ins.is_json else target
    return text[:start - ins.start] + target + text[end - ins.start:]
