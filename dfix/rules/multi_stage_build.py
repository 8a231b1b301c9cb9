from __future__ import annotations

import re

from ..syntax import DockerfileSyntaxError, Edit, apply_edits, tokenize
from ..syntax.packages import package_command
from ..syntax.shell import script_of
from .base import Rule, Safety
from ._runtime_libs import debian_release, is_build_only, runtime_counterpart

VENV = "/opt/venv"
_PYTHON_IMAGE = re.compile(r"(^|/)(python|pypy)(:|@|$)")
# Paths that say the app expects packages where a plain `pip install` puts them, not in a virtualenv
_SYSTEM_SITE = re.compile(r"/usr/local/lib/python|site-packages|/usr/local/bin/python|\bvenv\b|VIRTUAL_ENV")
# Instructions the builder needs to reproduce the install: everything else is the runtime's business
_BUILDER_KEEPS = frozenset({"ENV", "ARG", "WORKDIR", "COPY", "ADD", "SHELL"})
_HARMLESS = frozenset({"set", "true", ":", "echo"})
_USER_TOOLS = frozenset({"useradd", "adduser", "groupadd", "addgroup", "mkdir", "chown"})
_APT_QUIET = frozenset({"update", "clean", "autoclean"})
_RPM_TOOLS = frozenset({"dnf", "yum", "microdnf"})
_RPM_BUILD_ONLY = frozenset({"gcc", "gcc-c++", "make", "cmake", "autoconf", "automake", "libtool", "rust", "cargo"})


class MultiStageBuild(Rule):
    code = "DF403"
    name = "multi-stage-build"
    hadolint = ()
    title = "compilers and -dev headers ship in the final image"
    safety = Safety.MIGRATION
    what = (
        "Splits a single-stage Python Dockerfile that installs compilers or -dev headers into a builder and a "
        "runtime on the same base: the builder installs the OS packages and the Python dependencies into a "
        "virtualenv at /opt/venv; the runtime installs only the runtime counterparts of the -dev packages "
        "(libpq-dev -> libpq5, per distribution release), copies /opt/venv from the builder, and keeps every "
        "other instruction as it was, in order."
    )
    why = (
        "gcc, make and the headers are needed to compile wheels, not to run them: in the final image they "
        "cost hundreds of megabytes and give an attacker a compiler."
    )
    example = (
        "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev "
        "&& rm -rf /var/lib/apt/lists/*\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt",
        "FROM python:3.12-slim AS builder\n(the same apt RUN)\nRUN python -m venv /opt/venv\n"
        "ENV PATH=\"/opt/venv/bin:$PATH\"\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n\n"
        "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf "
        "/var/lib/apt/lists/*\nCOPY requirements.txt .\nCOPY --from=builder /opt/venv /opt/venv\nENV PATH=\"/opt/venv/bin:$PATH\"",
    )
    fix_safety = (
        "A virtualenv, not --prefix: one self-contained folder whose console scripts point at its own Python, "
        "nothing mixed into the base image's site-packages, and a PATH change that says what happened. Applied "
        "only to a single stage whose RUNs are OS package installs, pip installs and user creation (any other "
        "RUN could need either stage: reported), on a python:* base, when every -dev package has a known "
        "runtime counterpart for the base's release, and when nothing names the system site-packages. The "
        "result is checked: the same non-RUN instructions in the runtime, the same installs in the builder."
    )
    changes = frozenset({"runs", "copies", "copy-chown", "env.PATH", "stages", "stage0.*", "base-tag"})
    phase = 2

    def check(self, doc, ctx):
        if len(doc.stages) != 1:
            return
        stage = doc.stages[0]
        plan = _Plan.of(doc, stage)
        if plan is None:
            return
        message = "compilers and -dev headers ship in the final image: " + ", ".join(plan.build_only[:4]) + (
            ", ..." if len(plan.build_only) > 4 else "")
        line = next(owner for owner, package in plan.installed if is_build_only(package, plan.alpine)).line_number
        reason = plan.why_not(doc, stage)
        if reason:
            yield self.finding(line, message, reason=reason)
            return
        edits = plan.edits(doc, stage)
        problem = plan.verify(doc, edits)
        if problem:
            yield self.finding(line, message, reason=f"dfix could not prove the split exact ({problem})")
            return
        yield self.finding(line, message, edits)


class _Plan:
    def __init__(self):
        self.package_runs = []  # RUNs that install OS packages, with build-only ones among them
        self.dep_runs = []  # RUNs that pip install
        self.user_runs = []
        self.other_runs = []
        self.installed: list[tuple[object, str]] = []  # (instruction, package) in install order
        self.build_only: list[str] = []
        self.alpine = False
        self.problems: list[str] = []

    @classmethod
    def of(cls, doc, stage):
        plan = cls()
        for ins in stage.body:
            if ins.keyword != "RUN":
                continue
            script = script_of(doc, ins)
            kind = _classify(script, plan, ins)
            getattr(plan, kind).append(ins)
        plan.build_only = [p for _, p in plan.installed if is_build_only(p, plan.alpine) or p.endswith("-devel")
                           or p in _RPM_BUILD_ONLY]
        if not plan.build_only or not (_PYTHON_IMAGE.search(stage.base_expanded.split("@")[0]) or plan.dep_runs):
            return None  # nothing ships a compiler, or not a Python image (the conversion is Python's)
        return plan

    def why_not(self, doc, stage) -> str | None:
        if self.problems:
            return self.problems[0]
        if self.other_runs:
            ins = self.other_runs[0]
            return f"line {ins.line_number} runs something dfix cannot place in the builder or the runtime"
        if not self.dep_runs:
            return "no pip install to move into a builder"
        base = stage.base_expanded
        if not _PYTHON_IMAGE.search(base.split("@")[0]):
            return f"{base} is not a python image, so a virtualenv cannot be assumed"
        self.release = None if self.alpine else debian_release(base)
        if not self.alpine and self.release is None:
            return f"cannot tell which Debian release {base} is built on, to name the runtime libraries"
        last_package = max(i.index for i in self.package_runs)
        if any(d.index < last_package for d in self.dep_runs):
            return "a pip install runs before the build packages are installed"
        first_dep = min(d.index for d in self.dep_runs)
        if any(i.keyword == "USER" and i.index < first_dep for i in stage.body):
            return "the dependencies are installed as a USER set before them"
        for ins in stage.body:
            if ins not in self.dep_runs and _SYSTEM_SITE.search(ins.logical):
                return f"line {ins.line_number} names the system site-packages or a virtualenv"
            if ins.keyword in ("COPY", "ADD") and ins.flag("from"):
                return "the stage already copies from another image"
        unknown = [p for p in self.build_only if runtime_counterpart(p, self.alpine, self.release) is False]
        if unknown:
            return f"no known runtime package for {', '.join(unknown)} on {'alpine' if self.alpine else self.release}"
        for ins in self.rewritten_runs():
            if ins.flags:
                return f"line {ins.line_number} has RUN flags a rewritten package install would have to keep"
        return None

    def rewritten_runs(self):
        """Package RUNs that install something build-only: the runtime gets a new one; others stay as written."""
        return [i for i in self.package_runs
                if any(o is i and is_build_only(p, self.alpine) for o, p in self.installed)]

    def runtime_packages(self, ins) -> list[str]:
        out: list[str] = []
        for owner, package in self.installed:
            if owner is not ins:
                continue
            if is_build_only(package, self.alpine):
                counterpart = runtime_counterpart(package, self.alpine, self.release)
                if counterpart and counterpart not in out:
                    out.append(counterpart)
            elif package not in out:
                out.append(package)
        return out

    def edits(self, doc, stage) -> list[Edit]:
        text = doc.text
        frm = stage.from_instruction
        upper = not frm.keyword_text.islower()
        kw = (lambda k: k) if upper else str.lower
        eol = doc.lines[frm.first_line].eol or doc.eol
        last_dep = max(d.index for d in self.dep_runs)
        first_dep = min(d.index for d in self.dep_runs)
        image_and_flags = " ".join([text[slice(*frm.source_span(f.start, f.end))] for f in frm.flags] + [stage.base])
        builder = [f"{kw('FROM')} {image_and_flags} {kw('AS')} builder"]
        for ins in stage.body:
            if ins.index > last_dep:
                break
            if ins.index == first_dep:
                builder.append(f"{kw('RUN')} python -m venv {VENV}")
                builder.append(f'{kw("ENV")} PATH="{VENV}/bin:$PATH"')
            if ins in self.package_runs or ins in self.dep_runs or (
                    ins.keyword in _BUILDER_KEEPS and not (ins.keyword in ("COPY", "ADD") and ins.flag("from"))):
                builder.append(text[ins.start:ins.stop].rstrip("\r\n"))
        block_start = doc.lines[doc.comment_block_start(frm)].start
        edits = [Edit.insert(block_start, eol.join(builder) + eol + eol)]
        for ins in self.rewritten_runs():
            packages = self.runtime_packages(ins)
            if packages:
                edits.append(Edit(ins.start, ins.stop, f"{kw('RUN')} {self._install(packages)}{_eol(doc, ins, eol)}"))
            else:
                edits.append(Edit.delete(ins.start, ins.stop))
        for ins in self.dep_runs:
            if ins.index == first_dep:
                copy = f"{kw('COPY')} --from=builder {VENV} {VENV}{eol}{kw('ENV')} PATH=\"{VENV}/bin:$PATH\""
                edits.append(Edit(ins.start, ins.stop, copy + _eol(doc, ins, eol)))
            else:
                edits.append(Edit.delete(ins.start, ins.stop))
        return edits

    def _install(self, packages: list[str]) -> str:
        joined = " ".join(packages)
        if self.alpine:
            return f"apk add --no-cache {joined}"
        return f"apt-get update && apt-get install -y --no-install-recommends {joined} && rm -rf /var/lib/apt/lists/*"

    def verify(self, doc, edits) -> str | None:
        """Re-read the result: same non-RUN instructions in the runtime, same installs in the builder."""
        try:
            new = tokenize(apply_edits(doc.text, edits))
        except (DockerfileSyntaxError, ValueError) as err:
            return str(err)
        if len(new.stages) != 2 or new.stages[0].name != "builder":
            return "the result does not have a builder and a runtime stage"
        builder, runtime = new.stages
        def keys(body):
            return [(i.keyword, tuple(f"{f.name}={f.value}" for f in i.flags), " ".join(i.args.split()))
                    for i in body if i.keyword != "RUN"]

        added = [("COPY", ("from=builder",), f"{VENV} {VENV}"), ("ENV", (), f'PATH="{VENV}/bin:$PATH"')]
        runtime_keys = [k for k in keys(runtime.body) if k not in added]
        original = doc.stages[0]
        if runtime_keys != keys(original.body) or keys([runtime.from_instruction]) != keys([original.from_instruction]):
            return "the runtime's other instructions differ"
        original_deps = [" ".join(i.logical.split()) for i in self.dep_runs]
        builder_runs = [" ".join(i.logical.split()) for i in builder.body if i.keyword == "RUN"]
        if [r for r in builder_runs if r in original_deps] != original_deps:
            return "the builder does not run the same installs"
        return None


def _classify(script, plan, ins) -> str:
    if not script.ok:
        return "other_runs"
    names = [c.name for c in script.commands]
    if names and set(names) <= _USER_TOOLS and set(names) & {"useradd", "adduser", "groupadd", "addgroup"}:
        return "user_runs"
    kinds = set()
    # a RUN that removes what it installed (apt-get purge, apk del) ships no build packages: not counted
    removes = any(
        (pkg := package_command(c)) is not None and pkg.tool in ("apt", "apk") and pkg.action in ("purge", "remove", "autoremove", "del")
        for c in script.commands
    )
    for command in script.commands:
        pkg = package_command(command)
        name = command.name
        if pkg is not None and pkg.tool in ("apt", "apk"):
            plan.alpine = plan.alpine or pkg.tool == "apk"
            if pkg.action in ("install", "add"):
                if any(o.value and o.value.startswith(("--virtual", "-t")) for o in pkg.options):
                    plan.problems.append(f"line {ins.line_number} installs a virtual package group")
                if not removes:
                    plan.installed.extend((ins, w.value) for w in pkg.operands if w.value)
                kinds.add("package")
            elif pkg.action in _APT_QUIET or removes:
                kinds.add("package")
            else:
                plan.problems.append(f"line {ins.line_number} runs `{pkg.action}`, which changes packages")
                kinds.add("package")
        elif pkg is not None and pkg.tool == "pip":
            if pkg.action != "install" or pkg.has_option("--user", "-e", "--editable", "--prefix", "--target", "-t"):
                plan.problems.append(f"line {ins.line_number} runs pip in a way a virtualenv would change")
            if any(w.value and (w.value.startswith((".", "/")) or "/" in w.value) for w in pkg.operands):
                plan.problems.append(f"line {ins.line_number} installs from a local path, which needs the code in the builder")
            kinds.add("deps")
        elif name == "rm" and all((w.value or "").startswith(("-", "/var/lib/apt/lists", "/root/.cache", "/tmp/", "/var/cache"))
                                  for w in command.words[1:]):
            continue
        elif name in _HARMLESS:
            continue
        elif name in _RPM_TOOLS:
            words = [w.value or "" for w in command.words[1:]]
            if "install" in words:
                packages = [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
                rpm_build = [p for p in packages if p in _RPM_BUILD_ONLY or p.endswith("-devel")]
                if rpm_build:
                    plan.installed.extend((ins, p) for p in rpm_build)
                    plan.problems.append(f"line {ins.line_number} installs build packages with {name}; only apt and "
                                         "apk images are converted")
            kinds.add("rpm")  # read the rest of the RUN: the install may come after `dnf module enable`
        else:
            return "other_runs"
    if kinds == {"package"}:
        return "package_runs"
    if kinds == {"deps"}:
        return "dep_runs"
    return "other_runs"



def _eol(doc, ins, default: str) -> str:
    return doc.lines[ins.last_line].eol or ("" if ins.stop == len(doc.text) else default)
