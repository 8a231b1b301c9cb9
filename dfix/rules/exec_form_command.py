from __future__ import annotations

import json

from ..syntax import Edit, LineKind
from ..syntax.command import (
    command_is_paired, command_words, final_command, healthcheck_shell_text, tidy_joins, with_final_exec,
)
from ..syntax.shell import DEFAULT_SHELL, is_posix_shell, shell_in_force
from .base import Rule, Safety


class ExecFormCommand(Rule):
    code = "DF503"
    name = "exec-form-command"
    hadolint = ("DL3025",)
    title = "CMD, ENTRYPOINT or HEALTHCHECK CMD in shell form"
    safety = Safety.MIGRATION
    what = (
        "Rewrites a shell-form CMD/ENTRYPOINT as a JSON array. One simple command of literal words becomes its "
        "own argv (a leading `exec` is dropped). A command that needs the shell (variables, `&&`, redirects), "
        "or one an ENTRYPOINT/CMD pairing receives, becomes the very argv the shell form ran — the stage's "
        "SHELL (`/bin/sh -c` by default) and the text — with `exec` before its last command, so that command "
        "replaces the shell as PID 1. A shell-form `HEALTHCHECK CMD` becomes `[\"/bin/sh\", \"-c\", TEXT]` where "
        "the Dockerfile sets no SHELL."
    )
    why = (
        "In shell form `/bin/sh -c` is PID 1: `docker stop` sends SIGTERM to the shell, which does not forward "
        "it, so the app never shuts down cleanly and is killed after the timeout."
    )
    example = (
        "CMD python manage.py migrate && gunicorn app:app --workers $WORKERS",
        'CMD ["/bin/sh", "-c", "python manage.py migrate && exec gunicorn app:app --workers $WORKERS"]',
    )
    fix_safety = (
        "BuildKit stores a shell-form CMD or ENTRYPOINT as the SHELL's words plus the text, so the JSON array of "
        "those same words is the same image config, also where an ENTRYPOINT receives the CMD or a CMD follows "
        "the ENTRYPOINT (the arguments reach the shell as $0, $1, … either way). The one change is the `exec` "
        "before the last command, on purpose: the server becomes PID 1 and gets the stop signal. Applied only "
        "where the shell has nothing left to do once that command starts: it is the last statement (alone or "
        "at the end of `&&`/`||`), a literal program that is not a shell builtin, without an assignment before "
        "it; not with a pipeline, a subshell, `if`/loops, a background `&`, a trap or a function — those are "
        "reported. A simple command of literal words with no ENTRYPOINT/CMD pairing becomes its own argv "
        "instead, without the shell. Never under a Windows or non-POSIX SHELL, nor with comment lines inside "
        "the instruction. A shell-form HEALTHCHECK runs with the image's SHELL under Docker but with `/bin/sh -c` "
        "under podman (seen with podman 4.3: a bash-only check fails there): only where no SHELL is set do both "
        "run `/bin/sh -c TEXT`, which the JSON form then spells out; under a SHELL it is reported."
    )

    def check(self, doc, ctx):
        for stage in doc.stages:
            for ins in stage.body:
                if ins.keyword == "HEALTHCHECK":
                    yield from self._healthcheck(doc, ins)
                    continue
                if ins.keyword not in ("CMD", "ENTRYPOINT") or ins.is_json:
                    continue
                message = f"{ins.keyword} in shell form: the app is not PID 1 and does not get SIGTERM"
                reason, array = _exec_form(doc, stage, ins)
                if array is None:
                    yield self.finding(ins.line_number, message, reason=reason)
                    continue
                start = ins.source(ins.args_logical)
                yield self.finding(ins.line_number, message, [Edit(start, ins.logical_end_source, array)])


    def _healthcheck(self, doc, ins):
        found = healthcheck_shell_text(ins)
        if found is None:
            return
        offset, text = found
        message = "HEALTHCHECK CMD in shell form"
        if any(doc.lines[i].kind is LineKind.CONT_COMMENT for i in range(ins.first_line, ins.last_line + 1)):
            yield self.finding(ins.line_number, message, reason="comment lines inside the instruction would be lost")
            return
        if not is_posix_shell(doc, ins) or any(other.keyword == "SHELL" for other in doc.instructions):
            # Docker runs CMD-SHELL with the image's SHELL, podman with /bin/sh -c: only without a SHELL
            # do both run the same argv, which the JSON form can then spell out
            yield self.finding(ins.line_number, message, reason="the Dockerfile sets a SHELL (Docker would run the "
                               "check with it, podman with /bin/sh -c)" if is_posix_shell(doc, ins) else
                               "the image's shell is not a POSIX shell")
            return
        joins = [k - offset for k in _joins(ins) if k > offset]
        text = tidy_joins(text, joins) if joins else text
        start = ins.source(ins.args_logical + offset)
        yield self.finding(ins.line_number, message, [Edit(start, ins.logical_end_source, _json([*DEFAULT_SHELL, text]))])


def _exec_form(doc, stage, ins) -> tuple[str | None, str | None]:
    """(why not, None) or (None, the JSON array to write)."""
    if any(doc.lines[i].kind in (LineKind.CONT_COMMENT,) for i in range(ins.first_line, ins.last_line + 1)):
        return "comment lines inside the instruction would be lost", None
    words = command_words(doc, ins)
    if words is not None and not command_is_paired(doc, stage, ins):
        values = [w.value for w in words]
        if values[0] != "exec":
            return None, _json(values)
        if len(values) > 1 and not values[1].startswith("-"):
            return None, _json(values[1:])
    shell = shell_in_force(doc, ins)
    if shell is None:
        return "the stage's SHELL is not a POSIX shell", None
    text = tidy_joins(ins.args, _joins(ins)) if ins.is_multiline else ins.args
    handed = with_final_exec(text)
    if handed is None:
        why = final_command(text)
        return f"{why}, so the shell would stay PID 1", None
    return None, _json(shell + [handed])


def _joins(ins) -> list[int]:
    """Offsets in the arguments' text where BuildKit joined a continuation line (source offsets jump there)."""
    offsets, base = ins.raw.offsets, ins.args_logical
    return [k - base for k in range(base + 1, len(offsets)) if offsets[k] != offsets[k - 1] + 1]


def _json(values: list[str]) -> str:
    # U+2028/U+2029 are valid raw in JSON, but some readers take them for line breaks
    items = (json.dumps(v, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") for v in values)
    return "[" + ", ".join(items) + "]"
