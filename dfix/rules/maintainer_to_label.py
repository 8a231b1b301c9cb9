from __future__ import annotations

from ..syntax import Edit
from .base import Rule, Safety


class MaintainerToLabel(Rule):
    code = "DF501"
    name = "maintainer-to-label"
    hadolint = ("DL4000",)
    title = "MAINTAINER is deprecated"
    safety = Safety.SAFE
    what = 'Replaces `MAINTAINER name` with `LABEL maintainer="name"`.'
    why = "MAINTAINER has been deprecated since Docker 1.13; a label is where tools look for the maintainer."
    example = ("MAINTAINER Jane Doe <jane@example.com>", 'LABEL maintainer="Jane Doe <jane@example.com>"')
    fix_safety = (
        "Safe: the value is kept byte for byte (quoted and escaped). The image's Author field becomes the "
        "`maintainer` label, which is the point. Not applied to a MAINTAINER split over several lines."
    )

    def check(self, doc, ctx):
        for ins in doc.instructions:
            if ins.keyword != "MAINTAINER":
                continue
            message = "MAINTAINER is deprecated; use LABEL maintainer"
            if doc.stage_of(ins) is None:
                yield self.finding(
                    ins.line_number, message, reason="it stands before FROM, where BuildKit accepts only ARG"
                )
                continue
            if len(ins.code_lines) != 1:
                yield self.finding(ins.line_number, message, reason="the MAINTAINER spans several lines")
                continue
            value = ins.args
            escape = doc.escape
            quoted = value.replace(escape, escape + escape).replace('"', escape + '"').replace("$", escape + "$")
            start = ins.keyword_span[0]
            keyword = "label" if ins.keyword_text.islower() else "LABEL"
            yield self.finding(
                ins.line_number, message, [Edit(start, ins.logical_end_source, f'{keyword} maintainer="{quoted}"')]
            )
