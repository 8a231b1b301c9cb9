from __future__ import annotations

import json

from ..syntax import Edit, LineKind
from .base import Rule, Safety
from ..syntax.command import command_words


class ExecFormCommand(Rule):
    code = "DF503"
    name = "exec-form-command"
    hadolint = ("DL3025",)
    title = "CMD or ENTRYPOINT in shell form"
    safety = Safety.MIGRATION
    what = (
        "Rewrites a shell-form CMD/ENTRYPOINT as a JSON array when it is one simple command of literal words "
        "(a leading `exec` is dropped)."
    )
    why = (
        "In shell form `/bin/sh -c` is PID 1: `docker stop` sends SIGTERM to the shell, which does not forward "
        "it, so the app never shuts down cleanly and is killed after the timeout."
    )
    example = (
        "CMD gunicorn app:app --bind 0.0.0.0:8000",
        'CMD ["gunicorn", "app:app", "--bind", "0.0.0.0:8000"]',
    )
    fix_safety = (
        "The same program gets the same arguments; only the shell in between goes, which is the point. Not "
        "applied with variables, globs, `~`, `&&`, pipes, redirects or env assignments (they need the shell), "
        "to an `exec` with options, to a CMD that an ENTRYPOINT receives, or to an ENTRYPOINT followed by a CMD."
    )

    def check(self, doc, ctx):
        for stage in doc.stages:
            for ins in stage.body:
                if ins.keyword not in ("CMD", "ENTRYPOINT") or ins.is_json:
                    continue
                message = f"{ins.keyword} in shell form: the app is not PID 1 and does not get SIGTERM"
                reason = _why_not(doc, stage, ins)
                words = None if reason else command_words(doc, ins)
                if words is None:
                    yield self.finding(ins.line_number, message, reason=reason or "it needs a shell (variables, "
                                       "operators, globs or redirects)")
                    continue
                values = [w.value for w in words]
                if values[0] == "exec":
                    if len(values) == 1 or values[1].startswith("-"):
                        yield self.finding(ins.line_number, message, reason="exec with options")
                        continue
                    values = values[1:]
                start = ins.source(ins.args_logical)
                array = "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"
                yield self.finding(ins.line_number, message, [Edit(start, ins.logical_end_source, array)])


def _why_not(doc, stage, ins) -> str | None:
    if any(doc.lines[i].kind in (LineKind.CONT_COMMENT,) for i in range(ins.first_line, ins.last_line + 1)):
        return "comment lines inside the instruction would be lost"
    later = [o for o in stage.body if o.index > ins.index]
    if ins.keyword == "ENTRYPOINT" and any(o.keyword == "CMD" for o in later):
        return "a CMD follows: in exec form it would become the ENTRYPOINT's arguments"
    if ins.keyword == "CMD":
        chain = doc.stage_chain(stage)
        if any(o.keyword == "ENTRYPOINT" for link in chain for o in link.body if o.index < ins.index):
            return "an ENTRYPOINT receives this CMD as arguments; its form changes what it receives"
    return None
