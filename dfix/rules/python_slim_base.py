from __future__ import annotations

import re

from ..syntax import Edit
from ._shell import run_scripts
from .base import Rule, Safety
from .base_image_pin import stage_base

_VERSION = re.compile(r"\d|rc$")


class PythonSlimBase(Rule):
    code = "DF402"
    name = "python-slim-base"
    hadolint = ()
    title = "Python image on Alpine, or the full image in the final stage, instead of slim"
    safety = Safety.UNSAFE
    what = (
        "Switches a `python` image to its Debian slim variant, keeping the version and any Debian "
        "release: `python:3.12-alpine3.20` -> `python:3.12-slim`, `python:3.12` -> `python:3.12-slim`, "
        "`python:3.12-bookworm` -> `python:3.12-slim-bookworm`. Alpine stages are switched all together; "
        "the full image only in stages that end up in the final image (a builder may need its compilers)."
    )
    why = (
        "Alpine's musl libc cannot use the manylinux wheels PyPI ships, so pip builds packages such as "
        "numpy or cryptography from source: slow, needs compilers in the image, and some do not build at "
        "all. The full image carries compilers, headers and tools (~1 GB) that the running app does not "
        "need; slim is ~150 MB."
    )
    example = ("FROM python:3.12-alpine", "FROM python:3.12-slim")
    fix_safety = (
        "Unsafe: a different image. From Alpine, the libc, the package manager and the shell utilities "
        "change (not offered when a stage runs `apk`, or copies from another Alpine stage, or an Alpine "
        "stage is pinned by digest); from the full image, whatever the app used from it (gcc, headers, "
        "git, libpq, ...) is gone, and a pip install that compiles C extensions then needs `apt-get install "
        "build-essential` or a builder stage. Only with `--unsafe-fixes`."
    )
    changes = frozenset({"base-tag"})

    def check(self, doc, ctx):
        alpine, full = [], []
        for stage in doc.stages:
            base = stage_base(doc, stage)
            if base.ref is None or base.skip is not None or base.ref.hub_name != "python":
                continue
            variant = _variant(base.ref.tag)
            if variant == "alpine":
                alpine.append((stage, base))
            elif variant == "full" and doc.reaches_final(stage):
                full.append((stage, base))
        blocker = _alpine_blocker(doc, alpine) if alpine else None
        for stage, base in alpine:
            yield self._switch(stage, base, "alpine", blocker)
        for stage, base in full:
            yield self._switch(stage, base, "full", None)

    def _switch(self, stage, base, variant, blocker):
        ref = base.ref
        new_tag = _slim_tag(ref.tag, variant)
        if variant == "alpine":
            message = (
                f"FROM {ref.text}: Alpine's musl libc cannot use PyPI's manylinux wheels, so pip builds "
                f"from source (slow, needs compilers) or fails; {ref.name}:{new_tag} is Debian slim (glibc)"
            )
        else:
            message = (
                f"FROM {ref.text}: the full image carries compilers and headers (~1 GB) the app does not run "
                f"with; {ref.name}:{new_tag} is ~150 MB, but a pip install that compiles C extensions then "
                "needs build packages or a builder stage"
            )
        line = stage.from_instruction.line_number
        if ref.digest is not None:
            return self.finding(line, message, reason="the image is pinned by digest; the slim variant needs its own")
        if blocker:
            return self.finding(line, message, reason=blocker)
        lo, hi = ref.tag_span
        text = new_tag if ref.tag is not None else f":{new_tag}"
        return self.finding(line, message, [Edit(base.start + lo, base.start + hi, text)])


def _variant(tag: str | None) -> str | None:
    if tag is None or tag == "latest":
        return "full"
    parts = tag.split("-")
    if any(p.startswith(("windowsservercore", "nanoserver")) for p in parts):
        return None
    if any(p.startswith("alpine") for p in parts):
        return "alpine"
    return "slim" if "slim" in parts else "full"


def _slim_tag(tag: str | None, variant: str) -> str:
    if tag is None or tag == "latest":
        return "slim"
    parts = tag.split("-")
    if variant == "alpine":
        # the Alpine release means nothing on Debian: python:3.12-alpine3.20 -> python:3.12-slim
        return "-".join("slim" if p.startswith("alpine") else p for p in parts)
    at = 1 if _VERSION.match(parts[0]) else 0
    return "-".join(parts[:at] + ["slim"] + parts[at:])


def _alpine_blocker(doc, alpine) -> str | None:
    """Why the Alpine stages cannot all move to Debian: apk in them or in what builds on them, another
    Alpine stage whose files are copied (musl binaries next to glibc), or one that is pinned by digest."""
    switching = {stage.index for stage, _ in alpine}
    for stage, base in alpine:
        if base.ref.digest is not None:
            return f"stage {_label(stage)} is pinned by digest; Alpine stages switch together or not at all"
    affected = set(switching)
    for stage, _ in alpine:
        affected.update(s.index for s in doc.descendants(stage))
    for ins, run, script in run_scripts(doc):
        stage = doc.stage_of(ins)
        if stage is not None and stage.index in affected and any(c.name == "apk" for c in script.commands):
            return f"line {ins.line_number} runs apk: on slim it needs apt-get and Debian's package names"
    copied = {v.lower() for ins in doc.instructions for v in ins.flag_values("from")}
    for stage in doc.stages:
        if stage.index in switching or (stage.name not in copied and str(stage.index) not in copied):
            continue
        ref = stage_base(doc, stage).ref
        if ref is not None and (ref.hub_name == "alpine" or "alpine" in (ref.tag or "")):
            return f"files are copied from stage {_label(stage)}, built on Alpine: musl binaries would land in a glibc image"
    return None


def _label(stage) -> str:
    return stage.name or str(stage.index)
