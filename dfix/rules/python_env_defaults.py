from __future__ import annotations


from ..syntax import Edit
from .. import base_images
from .base import Rule, Safety

DEFAULTS = (("PYTHONDONTWRITEBYTECODE", "1"), ("PYTHONUNBUFFERED", "1"))


class PythonEnvDefaults(Rule):
    code = "DF502"
    name = "python-env-defaults"
    hadolint = ()
    title = "Python image without PYTHONUNBUFFERED / PYTHONDONTWRITEBYTECODE"
    safety = Safety.MIGRATION
    what = (
        "Sets `PYTHONDONTWRITEBYTECODE=1` and `PYTHONUNBUFFERED=1` in the final stage of a Python image, in its "
        "first `ENV key=value` instruction when it has one, else in a new ENV right after FROM."
    )
    why = (
        "Unbuffered output reaches `docker logs` as it is written instead of when a buffer fills or the process "
        "dies; without bytecode files the image carries no `__pycache__` written at run time."
    )
    example = ("FROM python:3.12-slim\nENV APP_ENV=prod", "FROM python:3.12-slim\nENV APP_ENV=prod PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1")
    fix_safety = (
        "Changes the runtime environment on purpose (output flushing, no .pyc written at run time). Never "
        "overrides a value the Dockerfile or a stage it builds on already sets."
    )
    changes = frozenset(f"env.{key}" for key, _ in DEFAULTS)

    def check(self, doc, ctx):
        stage = doc.final_stage
        if stage is None or not any(base_images.facts(s.base_expanded).python for s in doc.stage_chain(stage)):
            return
        env = {}
        for link in doc.stage_chain(stage):
            for ins in link.body:
                if ins.keyword == "ENV":
                    env.update(ins.key_values())
        missing = [(k, v) for k, v in DEFAULTS if k not in env]
        if not missing:
            return
        message = "Python image without " + " and ".join(k for k, _ in missing)
        target = next((i for i in stage.body if i.keyword == "ENV" and "=" in (i.words[0][0] if i.words else "")), None)
        if target is not None:
            yield self.finding(target.line_number, message, [_merge(doc, target, missing)])
            return
        frm = stage.from_instruction
        line = doc.lines[frm.last_line]
        eol = line.eol or doc.eol
        indent = doc.text[doc.lines[frm.first_line].start:frm.keyword_span[0]]
        keyword = "env" if frm.keyword_text.islower() else "ENV"
        pairs = " ".join(f"{k}={v}" for k, v in missing)
        yield self.finding(frm.line_number, message, [Edit.insert(line.end, f"{eol}{indent}{keyword} {pairs}")])


def _merge(doc, env, missing) -> Edit:
    at = env.logical_end_source
    if len(env.code_lines) == 1:
        return Edit.insert(at, "".join(f" {k}={v}" for k, v in missing))
    last = doc.lines[env.last_code_line]
    eol = last.eol or doc.eol
    text = doc.text[last.start:last.end]
    indent = text[: len(text) - len(text.lstrip(" \t"))] or "    "
    return Edit.insert(at, "".join(f" {doc.escape}{eol}{indent}{k}={v}" for k, v in missing))
