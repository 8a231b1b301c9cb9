"""The app the final stage runs, as the context layer reads it: built once per document and overlay."""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING

from ..syntax.command import shell_text_of

if TYPE_CHECKING:
    from ..context.app import AppFacts
    from ..context.app.env_reads import EnvReads


_FACTS: dict[tuple, AppFacts | None] = {}
_RELEVANT = frozenset({"CMD", "ENTRYPOINT", "WORKDIR", "ENV", "COPY", "ADD", "EXPOSE"})  # not FROM: a pinned tag reads the same app
# by what analyze_app is given, less the ENV: the readings made, each with the ENV names it looked at
_READINGS: dict[tuple, list[tuple[EnvReads, AppFacts]]] = {}


def final_app(doc, ctx) -> AppFacts | None:
    """Cached by what the analysis reads: the instructions that place and start the app, and pending
    rewrites of context files; the other fixes of a pass leave it unchanged, so it is read once."""
    context = ctx.build_context
    stage = doc.final_stage
    if context is None or stage is None:
        return None
    # two rules of one pass ask with the same document and context: the answer is the one just given
    last = doc.__dict__.get("_final_app")
    if last is not None and last[0] is context:
        return last[1]
    signature = tuple(  # arguments without flags: a --chown the user fix adds changes nothing here
        # ADD reads as COPY here (DF301 turns one into the other)
        ("COPY" if i.keyword == "ADD" else i.keyword, " ".join(i.args.split()))
        for link in doc.stage_chain(stage) for i in link.instructions if i.keyword in _RELEVANT
    )
    overlay = tuple(sorted((k, hash(v)) for k, v in context.overlay.items() if not k.endswith("dockerignore")))
    key = (str(context.root), signature, overlay)
    if key not in _FACTS:
        if len(_FACTS) > 256:  # a bulk run visits thousands of contexts: keep the cache small
            _FACTS.clear()
        _FACTS[key] = _analyze(doc, stage, context, overlay)
    doc.__dict__["_final_app"] = (context, _FACTS[key])
    return _FACTS[key]


def command_instructions(doc, stage):
    """The ENTRYPOINT and CMD in force in the final image (an ENTRYPOINT set later resets an inherited CMD)."""
    entry = cmd = None
    for link in doc.stage_chain(stage):
        for ins in link.body:
            if ins.keyword == "ENTRYPOINT":
                entry = ins
                if cmd is not None and doc.stage_of(cmd) is not link:
                    cmd = None
            elif ins.keyword == "CMD":
                cmd = ins
    return entry, cmd


def _argv(ins) -> list[str]:
    if ins is None:
        return []
    if ins.is_json:
        # DF503 writes a shell form as `[SHELL…, "-c", TEXT]` (bash with `-o pipefail`, say): read it as before
        text = shell_text_of(ins.json_args)
        return ["/bin/sh", "-c", text] if text is not None else ins.json_args
    return ["/bin/sh", "-c", ins.args]


def _analyze(doc, stage, context, overlay_key: tuple) -> AppFacts | None:
    entry, cmd = command_instructions(doc, stage)
    argv = _argv(entry) + _argv(cmd)
    if not argv:
        return None
    chain = doc.stage_chain(stage)
    workdir = doc.workdir_at(stage.instructions[-1], including=True)
    if workdir is None:
        return None  # the app's folder depends on a build variable: nothing can be read for sure
    copies = []  # (container dest dir or file, context source, is_dir), in order
    exposed = []
    for link in chain:
        for ins in link.body:
            if ins.keyword == "EXPOSE":
                for word, _, _ in ins.words:
                    head = word.split("/")[0]
                    if head.isdigit():
                        exposed.append(int(head))
            elif ins.keyword in ("COPY", "ADD") and not ins.flag("from") and not ins.heredocs:
                args = ins.json_args if ins.is_json else [w for w, _, _ in ins.words]
                if len(args) < 2 or any("$" in a for a in args):
                    continue
                *sources, dest = args
                here = doc.workdir_at(ins)
                if here is None:
                    continue
                target = posixpath.normpath(posixpath.join(here, dest))
                for source in sources:
                    rel = "." if source in (".", "./") else posixpath.normpath(source.lstrip("/"))
                    is_dir = rel == "." or os.path.isdir(os.path.join(context.root, rel))  # not pathlib: asked each pass
                    # "." and the WORKDIR are folders: a file copied there lands inside
                    into = is_dir or dest.endswith("/") or len(sources) > 1 or dest in (".", "./") or target == here
                    copies.append((target, rel, is_dir, into))
    env = doc.env_at(stage.instructions[-1]) if stage.body else {}
    for ins in stage.body[-1:]:
        if ins.keyword == "ENV":
            env.update(ins.key_values())

    def resolve(container_path: str) -> str | None:
        path = posixpath.normpath(container_path)
        for target, rel, is_dir, into in reversed(copies):
            if is_dir:
                if path == target or path.startswith(target.rstrip("/") + "/"):
                    inner = path[len(target.rstrip("/")) + 1:] if path != target else ""
                    candidate = inner if rel == "." else posixpath.join(rel, inner) if inner else rel
                    if context.exists(candidate):
                        return candidate
            elif (into and path == posixpath.join(target, posixpath.basename(rel))) or (not into and path == target):
                return rel
        return None

    # everything the reading depends on but the ENV (resolve reads the copies and the context's files)
    key = (str(context.root), tuple(argv), workdir, tuple(copies), tuple(exposed), overlay_key)
    readings = _READINGS.get(key)
    if readings is None:
        if len(_READINGS) > 256:  # a bulk run visits thousands of contexts: keep the cache small
            _READINGS.clear()
        readings = _READINGS[key] = []
    for reads, facts in readings:
        if reads.matches(env):
            return facts
    from ..context.app import analyze_app  # the app reader loads for a final stage that runs a command
    from ..context.app.env_reads import EnvReads

    reads = EnvReads(env)
    facts = analyze_app(context.root, argv, workdir, env, resolve, exposed, overlay=context.overlay, env_reads=reads)
    if len(readings) >= 8:
        del readings[0]
    readings.append((reads, facts))
    return facts
