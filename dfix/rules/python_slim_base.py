from __future__ import annotations

import re

from ..lazy_regex import lazy_compile
from ..syntax import Edit
from ..context.python import required_distributions
from ._runtime_libs import debian_release, full_image_runtime_libraries
from ._shell import run_scripts
from .base import Rule, Safety
from .base_image_pin import stage_base
from ._split_plan import SplitPlan
from .multi_stage_build import MultiStageBuild

_VERSION = lazy_compile(r"\d|rc$")


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
        "the full image only in stages that end up in the final image (a builder may need its compilers). "
        "A single full stage that installs Python dependencies is split: a builder on the full image installs "
        "them into a virtualenv (as DF403 does), and the slim runtime copies it and installs the runtime "
        "libraries of what the full image's headers built (psycopg2 -> libpq5, mysqlclient -> libmariadb3, "
        "lxml, Pillow, ... per Debian release). A final full stage that copies from a full builder stage gets "
        "those libraries too."
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
        "git, libpq, ...) is gone: the builder keeps the compilers, and the runtime libraries come from a "
        "table of the distributions that link them, read from the context's requirement files and manifests; "
        "a library the table does not know, or a tool the app runs (gcc, git), is missing at run time. A "
        "single stage whose install DF403 could not move (its reasons) is reported, not switched. Only with "
        "`--unsafe-fixes`."
    )
    changes = frozenset({"base-tag"}) | MultiStageBuild.changes
    phase = 3  # after DF403 has moved the stage's build packages into a builder, on the full base still

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
            yield self._full_to_slim(doc, stage, base, ctx)

    def _full_to_slim(self, doc, stage, base, ctx):
        plain = self._switch(stage, base, "full", None)
        if not plain.fixable:
            return plain
        ref = base.ref
        slim = f"{ref.name}:{_slim_tag(ref.tag, 'full')}"
        release = debian_release(slim)
        context = ctx.build_context if ctx is not None else None
        plan = SplitPlan.of(doc, stage, full_base=True) if len(doc.stages) == 1 else None
        if plan is not None:
            reason = plan.why_not(doc, stage, ctx)
            if reason:
                return self.finding(plain.line, plain.message, reason=(
                    f"the stage installs Python packages that may compile against the full image, and they cannot "
                    f"move into a builder on it: {reason}"))
            plan.slim_base = stage.base.replace(ref.text, slim, 1) if ref.text in stage.base else None
            if plan.slim_base is None:
                return self.finding(plain.line, plain.message, reason="the image reference is not written as one word")
            plan.full_image_libraries = full_image_runtime_libraries(self._distributions(doc, plan.dep_runs, context),
                                                                     release)
            edits = plan.edits(doc, stage) + list(plain.edits)
            problem = plan.verify(doc, edits)
            if problem:
                return self.finding(plain.line, plain.message, reason=f"dfix could not prove the split exact ({problem})")
            return self.finding(plain.line, plain.message + "; the install moves to a builder on the full image",
                                edits)
        builders = _full_builders(doc, stage)
        if not builders:
            return plain
        dep_runs = [ins for b in builders for ins in (SplitPlan.of(doc, b, full_base=True) or SplitPlan(doc)).dep_runs]
        wanted = full_image_runtime_libraries(self._distributions(doc, dep_runs, context), release)
        installed = _apt_installed(doc, stage)
        missing = [p for p in wanted if p not in installed]
        if not missing:
            return plain
        first_copy = next(i for i in stage.body if i.keyword in ("COPY", "ADD") and i.flag("from") is not None
                          and i.flag("from").value.lower() in {b.name or str(b.index) for b in builders})
        kw = "RUN" if not stage.from_instruction.keyword_text.islower() else "run"
        eol = doc.lines[first_copy.first_line].eol or doc.eol
        install = (f"{kw} apt-get update && apt-get install -y --no-install-recommends {' '.join(missing)} "
                   f"&& rm -rf /var/lib/apt/lists/*{eol}")
        at = doc.lines[doc.comment_block_start(first_copy)].start
        return self.finding(plain.line, plain.message, list(plain.edits) + [Edit.insert(at, install)])

    @staticmethod
    def _distributions(doc, dep_runs, context) -> set[str]:
        """What the installs may install: the context's manifests, and the packages pip is given by name."""
        from ..context.python import _canonical
        from ..syntax.packages import package_command
        from ..syntax.shell import script_of
        names = required_distributions(context) if context is not None else set()
        for ins in dep_runs:
            for command in script_of(doc, ins).commands:
                pkg = package_command(command)
                if pkg is not None and pkg.tool == "pip" and pkg.action == "install":
                    names.update(_canonical(re.split(r"[\[<>=!~;@ ]", w.value)[0]) for w in pkg.operands if w.value)
        return names

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


def _full_builders(doc, stage) -> list:
    """The stages on a full python image that ``stage`` copies files from: what they compiled against the
    full image's headers needs those libraries in ``stage``."""
    copied = {v.lower() for i in stage.body if i.keyword in ("COPY", "ADD") for v in i.flag_values("from")}
    out = []
    for other in doc.stages:
        if other is stage or (other.name not in copied and str(other.index) not in copied):
            continue
        ref = stage_base(doc, other).ref
        if ref is not None and ref.hub_name == "python" and _variant(ref.tag) == "full":
            out.append(other)
    return out


def _apt_installed(doc, stage) -> set[str]:
    from ..syntax.packages import package_command
    found = set()
    for ins, run, script in run_scripts(doc):
        if doc.stage_of(ins) is not stage:
            continue
        for command in script.commands:
            pkg = package_command(command)
            if pkg is not None and pkg.tool == "apt" and pkg.action == "install":
                found.update((w.value or "").split("=")[0] for w in pkg.operands)
    return found
