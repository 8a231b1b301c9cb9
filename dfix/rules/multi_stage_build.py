from __future__ import annotations

import posixpath
import re

from ..syntax import DockerfileSyntaxError, Edit, apply_edits, tokenize
from ..syntax.tokenizer import LineKind
from ..syntax.packages import package_command
from ..syntax.shell import Command, script_of
from ..context.dockerignore import DockerIgnore
from ..context.python import declared_distributions, imported_top_level_modules
from ..contract import hands_over_ownership
from .. import base_images
from .base import Rule, Safety
from ._python_tools import (TOOL_COMPANIONS, TOOL_DISTRIBUTIONS, TOOL_PROGRAMS, UV_IMAGE, distribution_name,
                            undeclared_tool_imports)
from ._runtime_libs import OTHER_DEBIAN, debian_release, is_build_only, runtime_counterpart
from .absolute_copy_dest import with_absolute_destination
from .dependency_layer_order import _context_path, _copy_mapping

VENV = "/opt/venv"
# Paths that say the app expects packages where a plain `pip install` puts them, not in a virtualenv
_SYSTEM_SITE = re.compile(r"/usr/local/lib/python|site-packages|/usr/local/bin/python|\bvenv\b|VIRTUAL_ENV")
# a uv project keeps its environment where uv put it, so only the system paths matter there
_SYSTEM_PATHS = re.compile(r"/usr/local/lib/python|site-packages|/usr/local/bin/python")
# Instructions the builder needs to reproduce the install: everything else is the runtime's business
_BUILDER_KEEPS = frozenset({"ENV", "ARG", "WORKDIR", "COPY", "ADD", "SHELL"})
_HARMLESS = frozenset({"set", "true", ":", "echo"})
_USER_TOOLS = frozenset({"useradd", "adduser", "groupadd", "addgroup", "mkdir", "chown"})
_APT_QUIET = frozenset({"update", "clean", "autoclean"})
_RPM_TOOLS = frozenset({"dnf", "yum", "microdnf"})
_PROJECT_ENV_INSTALLERS = frozenset({"uv-sync", "poetry-project"})
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
        "virtualenv at /opt/venv (pip, `uv pip install --system`, poetry with virtualenvs.create false, "
        "`pipenv install --system`) or into the project's own environment (uv sync, poetry's in-project "
        ".venv); the runtime installs only the runtime counterparts of the -dev packages (libpq-dev -> libpq5, "
        "per distribution release), copies that environment from the builder, and keeps every other "
        "instruction as it was, in order. The packaging tool (poetry, pipenv, uv) stays in the builder."
    )
    why = (
        "gcc, make and the headers are needed to compile wheels, not to run them: in the final image they "
        "cost hundreds of megabytes and give an attacker a compiler."
    )
    example = (
        "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev "
        "&& rm -rf /var/lib/apt/lists/*\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt",
        "FROM python:3.12-slim AS builder\n(the same apt RUN)\nCOPY requirements.txt .\nRUN python -m venv /opt/venv\n"
        "ENV PATH=\"/opt/venv/bin:$PATH\"\nRUN pip install --no-cache-dir -r requirements.txt\n\n"
        "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf "
        "/var/lib/apt/lists/*\nCOPY requirements.txt .\nCOPY --from=builder /opt/venv /opt/venv\nENV PATH=\"/opt/venv/bin:$PATH\"",
    )
    fix_safety = (
        "A virtualenv, not --prefix: one self-contained folder whose console scripts point at its own Python, "
        "nothing mixed into the base image's site-packages, and a PATH change that says what happened. poetry "
        "finds it through VIRTUAL_ENV, `uv pip install --system` through UV_PYTHON, pip and pipenv through PATH "
        "(a tool installed with pip in the same RUN as the dependencies then lands in the virtualenv: "
        "reported). A uv or in-project poetry environment is copied where the project had it, so the paths the "
        "image names stay true: before the app copy when the ignore file keeps the context's own .venv out of "
        "the copies between the installs (a rebuild after an app edit then reuses it), else after them, over "
        "whatever they brought. Other RUNs go where their result is needed: a setup "
        "step before the installs runs in both stages (the installs may read what it did), one after them "
        "stays in the runtime; one between two installs, or one that compiles (gcc, make, setup.py "
        "build_ext, *-config), runs a script dfix cannot read or changes packages is reported. Applied only "
        "to a single stage, on a python:* base, when every -dev package has a known runtime "
        "counterpart for the base's release, when nothing names the system site-packages, when nothing left "
        "in the runtime runs the tool (`poetry run`, `uv run`), and, for poetry and pipenv, when the app "
        "imports nothing that only the tool's own requirements installed (requests, packaging, ...) and that "
        "its lock file or manifest does not name. The result is checked: the same non-RUN instructions in "
        "the runtime, the same installs in the builder. In a file that is already multi-stage, the final "
        "stage's build packages become their runtime libraries only when that stage installs no Python "
        "packages and runs nothing that builds (it copies what another stage compiled); otherwise reported."
    )
    changes = frozenset({"runs", "copies", "copy-chown", "env.PATH", "stages", "stage0.*", "base-tag"})
    phase = 2

    def check(self, doc, ctx):
        if not doc.stages:
            return
        stage = doc.stages[-1]
        plan = _Plan.of(doc, stage)
        if plan is None:
            return
        message = "compilers and -dev headers ship in the final image: " + ", ".join(plan.build_only[:4]) + (
            ", ..." if len(plan.build_only) > 4 else "")
        line = next(owner for owner, package in plan.installed if is_build_only(package, plan.alpine)).line_number
        split = len(doc.stages) == 1
        reason = plan.why_not(doc, stage, ctx) if split else plan.why_not_in_final_stage(doc, stage)
        if reason:
            yield self.finding(line, message, reason=reason)
            return
        if split and plan.project_env:
            plan.env_before_app = plan.app_copy_cannot_reach_env(doc, stage, ctx)
        edits = plan.edits(doc, stage) if split else plan.runtime_install_edits(doc, stage)
        problem = plan.verify(doc, edits) if split else plan.verify_final_stage(doc, edits)
        if problem:
            yield self.finding(line, message, reason=f"dfix could not prove the split exact ({problem})")
            return
        yield self.finding(line, message, edits)


class _Plan:
    def __init__(self, doc):
        self.doc = doc
        self.release: str | None = None  # the base's Debian release, once the plan is judged
        self.env_dir = VENV  # where the dependencies end up: /opt/venv or the project's own .venv
        self.env_before_app = False  # True: a project's own .venv goes where its first install was, before the app copy
        self.package_runs = []  # RUNs that install OS packages, with build-only ones among them
        self.dep_runs = []  # RUNs that install the Python dependencies (pip, uv, poetry, pipenv)
        self.tool_runs = []  # RUNs that install the packaging tool itself (pip install poetry)
        self.tool_copies = []  # COPY --from=ghcr.io/astral-sh/uv ...: the uv binary
        self.user_runs = []
        self.other_runs = []
        self.installed: list[tuple[object, str]] = []  # (instruction, package) in install order
        self.build_only: list[str] = []
        self.installers: set[str] = set()  # pip, uv-pip, uv-sync, poetry, pipenv
        self.tools: set[str] = set()  # packaging tools the stage installs: poetry, pipenv, uv
        self.poetry_venv_off = False  # `poetry config virtualenvs.create false` ran before the install
        self.poetry_in_project = False  # ... or virtualenvs.in-project true: the project's own .venv
        self.mixed_runs = []  # RUNs that install the tool and then the dependencies with it
        self.alpine = False
        self.problems: list[str] = []
        # DF402's split of a full python image: the builder keeps the full base, the runtime gets this slim one
        # and the runtime libraries of what the full image's headers built (installed before the environment)
        self.slim_base: str | None = None
        self.full_image_libraries: list[str] = []

    @classmethod
    def of(cls, doc, stage, full_base: bool = False):
        """The plan for ``stage``; None when nothing there compiles. With ``full_base`` the base image itself
        brings the compilers and headers, so a dependency install is enough."""
        plan = cls(doc)
        for ins in stage.body:
            if ins.keyword in ("COPY", "ADD") and UV_IMAGE.match(ins.flag("from").value if ins.flag("from") else ""):
                plan.tool_copies.append(ins)
                plan.tools.add("uv")
                continue
            if ins.keyword != "RUN":
                continue
            script = script_of(doc, ins)
            kind = _classify(script, plan, ins)
            getattr(plan, kind).append(ins)
        plan.build_only = [p for _, p in plan.installed if is_build_only(p, plan.alpine) or p.endswith("-devel")
                           or p in _RPM_BUILD_ONLY]
        if full_base:
            return plan if plan.dep_runs else None
        if not plan.build_only or not (base_images.facts(stage.base_expanded).python or plan.dep_runs):
            return None  # nothing ships a compiler, or not a Python image (the conversion is Python's)
        return plan

    @property
    def project_env(self) -> bool:
        """uv sync and poetry's in-project virtualenv fill the project's own environment (<project>/.venv):
        it is copied where it is."""
        return bool(self.installers & _PROJECT_ENV_INSTALLERS)

    @property
    def needs_path(self) -> bool:
        """pip and `pipenv --system` install into the Python first on PATH; poetry follows VIRTUAL_ENV and
        `uv pip install --system` UV_PYTHON, so a tool they install with pip still lands in the system Python."""
        return not self.project_env and bool(self.installers & {"pip", "pipenv"})

    def why_not(self, doc, stage, ctx=None) -> str | None:
        if self.problems:
            return self.problems[0]
        if not self.dep_runs:
            return "no Python dependency install to move into a builder"
        first_dep = min(d.index for d in self.dep_runs)
        last_dep = max(d.index for d in self.dep_runs)
        for ins in self.other_runs:
            if first_dep < ins.index < last_dep:
                return (f"line {ins.line_number} runs between the dependency installs: dfix cannot tell whether the "
                        "builder, the runtime or both need it")
            reason = _unplaceable(doc, ins)
            if reason:
                return f"line {ins.line_number} {reason}"
        base = stage.base_expanded
        facts = base_images.facts(base)
        if not (facts.python and facts.venv):
            return f"{base} is not a python image, so a virtualenv cannot be assumed"
        last_package = max((i.index for i in self.package_runs), default=-1)  # none: the full image's own
        if any(d.index < last_package for d in self.dep_runs):
            return "a pip install runs before the build packages are installed"
        if any(i.keyword == "USER" and i.index < first_dep for i in stage.body):
            return "the dependencies are installed as a USER set before them"
        if self.needs_path:
            if self.mixed_runs:
                return (f"line {self.mixed_runs[0].line_number} installs the packaging tool and the dependencies in "
                        "one RUN: pip would put both in the virtualenv, and the tool would reach the runtime")
            late_tool = next((t for t in self.tool_runs + self.tool_copies if t.index > first_dep), None)
            if late_tool is not None:
                return (f"line {late_tool.line_number} installs the packaging tool after the dependencies, where pip "
                        "would put it in the virtualenv")
        reason = self._tools_reason(doc, stage, ctx)
        if reason:
            return reason
        system_site = _SYSTEM_PATHS if self.project_env else _SYSTEM_SITE
        for ins in stage.body:
            if ins not in self.dep_runs and system_site.search(ins.logical):
                return f"line {ins.line_number} names the system site-packages or a virtualenv"
            if ins.keyword in ("COPY", "ADD") and ins.flag("from") and ins not in self.tool_copies:
                return "the stage already copies from another image"
        return self._runtime_reason(doc, stage)

    def _runtime_reason(self, doc, stage) -> str | None:
        """Why the runtime's package installs cannot be written: the release, a counterpart or a RUN flag."""
        base = doc.stage_chain(stage)[0].base_expanded
        self.release = None if self.alpine else debian_release(base)
        if not self.alpine and self.release is None:
            return _unknown_release(base)
        unknown = [p for p in self.build_only if runtime_counterpart(p, self.alpine, self.release) is False]
        if unknown:
            return f"no known runtime package for {', '.join(unknown)} on {'alpine' if self.alpine else self.release}"
        for ins in self.rewritten_runs():
            unknown_flags = [f.name for f in ins.flags if f.name not in ("mount", "network")]
            if unknown_flags:
                return f"line {ins.line_number} has RUN --{unknown_flags[0]}, which dfix does not carry over"
        return None

    def _tools_reason(self, doc, stage, ctx) -> str | None:
        """Why the dependencies cannot move into a builder's environment with the tool left behind."""
        if self.project_env and len(self.installers) > 1:
            return f"{' and '.join(sorted(self.installers))} fill different environments"
        if self.project_env:
            self.env_dir = self._project_environment(doc)
            if self.env_dir is None:
                return ("the project environment's path depends on a variable or on the base image's working directory, "
                        "which is not known, or differs between installs")
        else:
            self.env_dir = VENV
        if "poetry" in self.installers and not self.poetry_venv_off:
            return ("poetry keeps the dependencies in a virtualenv of its own, which the runtime reaches only "
                    "through poetry (set `poetry config virtualenvs.create false` to install into the image's Python)")
        programs = {program for tool in self.tools for program in TOOL_PROGRAMS[tool]}
        moved = set(self.dep_runs) | set(self.tool_runs) | set(self.tool_copies)  # mixed runs are dep runs
        for ins in stage.body:
            if ins in moved or ins.keyword in ("COPY", "ADD", "ENV", "ARG", "LABEL", "WORKDIR", "EXPOSE", "USER"):
                continue
            used = programs & set(re.findall(r"[\w.-]+", ins.logical))
            if used:
                return f"line {ins.line_number} runs {sorted(used)[0]}, so the tool must stay in the final image"
        for tool in sorted(self.tools & {"poetry", "pipenv"}):
            context = ctx.build_context if ctx is not None else None
            if context is None:
                return f"without the build context dfix cannot tell whether the app needs what {tool} brought"
            imported = imported_top_level_modules(context)
            if imported is None:
                return f"too many Python files to tell whether the app needs what {tool} brought"
            local = {m for m in imported if context.exists(f"{m}.py") or context.exists(m) or context.exists(f"src/{m}")}
            missing = undeclared_tool_imports(tool, imported - local, declared_distributions(context))
            if missing:
                return (f"the app imports {', '.join(missing[:3])}, which only {tool}'s own requirements install: "
                        "it would be missing once the tool stays in the builder")
        return None

    def _project_environment(self, doc) -> str | None:
        places = set()
        for ins in self.dep_runs:
            # an absolute path is written (COPY --from=builder): the base's own working directory counts
            workdir = base_images.workdir_at(doc, ins)
            configured = doc.env_at(ins).get("UV_PROJECT_ENVIRONMENT") if "uv-sync" in self.installers else None
            if workdir is None or (configured is not None and "$" in configured):
                return None
            places.add(posixpath.normpath(posixpath.join(workdir, configured or ".venv")))
        return places.pop() if len(places) == 1 else None

    def app_copy_cannot_reach_env(self, doc, stage, ctx) -> bool:
        """Whether the runtime can copy the project's own environment where its first install was: nothing
        between the installs that stays in the runtime may write into it, i.e. only plain copies whose context
        files landing there the ignore file keeps out. Copied after them, the environment is copied and
        committed again on every rebuild after an app edit, as the app copy before it changed."""
        context = ctx.build_context if ctx is not None else None
        ignore = DockerIgnore.of(context) if context is not None else None
        if ignore is None:
            return False
        first = min(d.index for d in self.dep_runs)
        last = max(d.index for d in self.dep_runs)
        moved = set(self.dep_runs) | set(self.tool_runs) | set(self.tool_copies)
        for ins in stage.body:
            if not first < ins.index < last or ins in moved:
                continue
            if ins.keyword in ("RUN", "ADD") or (ins.keyword == "COPY" and ins.flag("from")):
                return False
            if ins.keyword != "COPY":
                continue
            workdir = doc.workdir_at(ins)
            mapping = _copy_mapping(doc, ins, workdir, context) if workdir is not None else "no workdir"
            if isinstance(mapping, str):
                return False
            dest_dir, sources = mapping
            if dest_dir == self.env_dir or dest_dir.startswith(self.env_dir.rstrip("/") + "/"):
                return False
            for source in sources:
                landing = _context_path(self.env_dir, dest_dir, [source])
                if landing is not None and not _kept_out(ignore, landing):
                    return False
        return True

    def why_not_in_final_stage(self, doc, stage) -> str | None:
        """An already multi-stage file: the final stage's build packages go only when nothing in it could
        use them, i.e. it installs no Python packages and runs nothing that builds."""
        if self.dep_runs or self.tool_runs or self.tool_copies:
            ins = (self.dep_runs + self.tool_runs + self.tool_copies)[0]
            return f"line {ins.line_number} installs Python packages in the final stage, which may compile with them"
        if self.problems:
            return self.problems[0]
        for ins in self.other_runs:
            reason = _unplaceable(doc, ins)
            if reason:
                return f"line {ins.line_number} {reason}"
        return self._runtime_reason(doc, stage)

    def verify_final_stage(self, doc, edits) -> str | None:
        """Re-read the result: the same stages, only the package RUNs of the final stage changed."""
        try:
            new = tokenize(apply_edits(doc.text, edits))
        except (DockerfileSyntaxError, ValueError) as err:
            return str(err)
        def shape(d):
            return [(i.keyword, " ".join(i.args.split())) for i in d.instructions
                    if not (i.keyword == "RUN" and d.stage_of(i) is d.stages[-1])]
        if len(new.stages) != len(doc.stages) or shape(new) != shape(doc):
            return "instructions outside the final stage's package installs changed"
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

    def missing_libraries(self) -> list[str]:
        """The full image's runtime libraries the runtime's own package installs do not bring."""
        installed = {p for ins in self.package_runs for p in self.runtime_packages(ins)}
        return [p for p in self.full_image_libraries if p not in installed]

    def builder_env(self) -> str | None:
        """The ENV that points the builder's installers at the new virtualenv (None: uv's project env)."""
        if self.project_env:
            return None
        values = [f'PATH="{VENV}/bin:$PATH"'] if self.needs_path else []
        if self.installers & {"poetry", "pipenv", "uv-pip"}:
            values.insert(0, f"VIRTUAL_ENV={VENV}")  # poetry and pipenv install into the active virtualenv
        if "uv-pip" in self.installers:
            values.append(f"UV_PYTHON={VENV}/bin/python")  # `uv pip install --system` follows it, not PATH
        return " ".join(values)

    def runtime_copy(self, kw) -> str:
        copy = f"{kw('COPY')} --from=builder {self.env_dir} {self.env_dir}"
        return copy if self.project_env else f"{copy}\n{kw('ENV')} PATH=\"{VENV}/bin:$PATH\""

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
        tools = set(self.tool_runs) | set(self.tool_copies)
        # the venv at /opt/venv lands where the first install was; a project's own .venv lies inside the
        # app's folder, so it lands where the last install was, over whatever the app copy brought, unless
        # no copy in between can bring one: then before the app copy, whose edits it no longer follows
        copy_at = last_dep if self.project_env and not self.env_before_app else first_dep
        # what leaves the runtime takes the comment lines that describe it to the builder
        leaving = tools | {d for d in self.dep_runs if d.index != copy_at} | {
            i for i in self.rewritten_runs() if not self.runtime_packages(i)}
        # a user named by a --chown, or by a setup step, in the builder must exist there too
        needs_users = any(
            (i.keyword in ("COPY", "ADD") and re.search(r"[^\d:]", i.flag("chown").value if i.flag("chown") else ""))
            or i in self.other_runs for i in stage.body if i.index <= last_dep)
        for ins in stage.body:
            if ins.index > last_dep:
                break
            if ins.index == first_dep and self.builder_env() is not None:
                builder.append(f"{kw('RUN')} python -m venv {VENV}")
                builder.append(f"{kw('ENV')} {self.builder_env()}")
            # a setup step before the installs runs in both stages: the installs may read what it did
            if ins in self.package_runs or ins in self.dep_runs or ins in tools or ins in self.other_runs or (
                    ins in self.user_runs and needs_users) or (
                    ins.keyword in _BUILDER_KEEPS and not (ins.keyword in ("COPY", "ADD") and ins.flag("from"))):
                start = doc.lines[doc.comment_block_start(ins)].start if ins in leaving else ins.start
                # a copy into the builder is dfix's own line: no relative destination without a WORKDIR
                own = with_absolute_destination(doc, ins) if ins.keyword in ("COPY", "ADD") else text[ins.start:ins.stop]
                builder.append((text[start:ins.start] + own).rstrip("\r\n"))
        block_start = doc.lines[doc.comment_block_start(frm)].start
        edits = [Edit.insert(block_start, eol.join(builder) + eol + eol)] + self.runtime_install_edits(doc, stage)
        for ins in sorted(tools, key=lambda i: i.index):
            edits.append(_delete(doc, ins))
        for ins in self.dep_runs:
            if ins.index == copy_at:
                copy = self.runtime_copy(kw)
                libraries = self.missing_libraries()
                if libraries:
                    copy = f"{kw('RUN')} {self._install(libraries)}\n{copy}"
                edits.append(Edit(ins.start, ins.stop, copy.replace("\n", eol) + _eol(doc, ins, eol)))
            else:
                edits.append(_delete(doc, ins))
        return edits

    def runtime_install_edits(self, doc, stage) -> list[Edit]:
        """Each package RUN with build-only packages installs their runtime counterparts instead."""
        kw = (lambda k: k) if not stage.from_instruction.keyword_text.islower() else str.lower
        eol = doc.lines[stage.from_instruction.first_line].eol or doc.eol
        edits = []
        for ins in self.rewritten_runs():
            packages = self.runtime_packages(ins)
            if packages:
                flags = "".join(doc.text[slice(*ins.source_span(f.start, f.end))] + " " for f in ins.flags)
                cached = any("/var/lib/apt" in (f.value or "") for f in ins.flags if f.name == "mount")
                install = self._install(packages, keep_lists=cached)
                edits.append(Edit(ins.start, ins.stop, f"{kw('RUN')} {flags}{install}{_eol(doc, ins, eol)}"))
            else:
                edits.append(_delete(doc, ins))
        return edits

    def _install(self, packages: list[str], keep_lists: bool = False) -> str:
        """The runtime's install; apt lists stay where a cache mount holds them, as the original kept them."""
        joined = " ".join(packages)
        if self.alpine:
            return f"apk add --no-cache {joined}"
        install = f"apt-get update && apt-get install -y --no-install-recommends {joined}"
        return install if keep_lists else f"{install} && rm -rf /var/lib/apt/lists/*"

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

        added = [("COPY", ("from=builder",), f"{self.env_dir} {self.env_dir}")]
        if not self.project_env:
            added.append(("ENV", (), f'PATH="{VENV}/bin:$PATH"'))
        runtime_keys = [k for k in keys(runtime.body) if k not in added]
        original = doc.stages[0]
        kept = [i for i in original.body if i not in self.tool_copies]
        if runtime_keys != keys(kept):
            return "the runtime's other instructions differ"
        if self.slim_base is None and keys([runtime.from_instruction]) != keys([original.from_instruction]):
            return "the runtime's base differs"
        if self.slim_base is not None and (runtime.base != self.slim_base or builder.base != original.base):
            return "the builder is not on the original base, or the runtime not on the slim one"
        if sum(k in added for k in keys(runtime.body)) != len(added):
            return "the runtime does not copy the environment once"
        original_deps = [" ".join(i.logical.split()) for i in self.dep_runs]
        builder_runs = [" ".join(i.logical.split()) for i in builder.body if i.keyword == "RUN"]
        if [r for r in builder_runs if r in original_deps] != original_deps:
            return "the builder does not run the same installs"
        original_tools = [" ".join(i.logical.split()) for i in self.tool_runs]
        if any(" ".join(i.logical.split()) in original_tools for i in runtime.body if i.keyword == "RUN"):
            return "the packaging tool is still installed in the runtime"
        return None


def run_kind(script, ins) -> str:
    """What the split makes of a RUN's commands: package_runs, dep_runs, tool_runs, user_runs or other_runs."""
    return _classify(script, _Plan(ins.doc), ins)


def plans_on(doc, stage, full_base: bool = False) -> bool:
    """Whether the split (DF403; DF402 with ``full_base``) has a plan for the stage's RUNs."""
    return _Plan.of(doc, stage, full_base=full_base) is not None


def _classify(script, plan, ins) -> str:
    if not script.ok:
        plan.problems.append(f"line {ins.line_number} has shell dfix cannot read, to tell which stage needs it")
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
            tool = _tool_install(pkg)
            if tool is not None:
                plan.tools.add(tool)
                kinds.add("tool")
                continue
            _pip_like(pkg, plan, ins)
            # `pip install -U pip` goes with the tool it precedes; alone it upgrades the virtualenv's pip
            kinds.add("companion" if _companions_only(pkg) else "pip")
        elif name == "uv":
            kinds.add(_uv(command, plan, ins))
        elif name == "poetry":
            kinds.add(_poetry(command, plan, ins))
        elif name == "pipenv":
            kinds.add(_pipenv(command, plan, ins))
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
    if "companion" in kinds:
        kinds.discard("companion")
        kinds.add("tool" if "tool" in kinds else "pip")
    if "pip" in kinds:
        kinds.discard("pip")
        kinds.add("deps")
        plan.installers.add("pip")
    if kinds == {"package"}:
        return "package_runs"
    if kinds == {"deps"}:
        return "dep_runs"
    if kinds == {"tool"}:
        return "tool_runs"
    if kinds == {"tool", "deps"}:
        plan.mixed_runs.append(ins)
        return "dep_runs"
    return "other_runs"


# programs that compile or link, or report how to: a step that runs them makes something only the builder
# can make, which the runtime would then have to copy
_BUILD_PROGRAMS = frozenset({
    "gcc", "g++", "cc", "c++", "clang", "clang++", "cpp", "ld", "as", "make", "gmake", "cmake", "ninja", "meson",
    "configure", "autoreconf", "autoconf", "automake", "libtool", "cargo", "rustc", "rustup", "go", "gfortran",
    "pkg-config", "pkgconf", "swig", "cython", "cythonize", "maturin", "nvcc", "javac", "mvn", "gradle", "npm",
    "yarn", "pnpm", "bazel", "scons", "patch", "git",
})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "busybox", "eval", "source", ".", "exec", "xargs",
                     "env", "nohup", "timeout", "su", "sudo", "gosu", "su-exec", "chroot", "find"})
_PYTHON_BUILDS = re.compile(r"(^|/)setup\.py$|^(build_ext|bdist_wheel|bdist_egg|develop|build)$")


def _unplaceable(doc, ins) -> str | None:
    """Why a RUN that is neither a package nor a dependency install cannot simply stay where it runs (in the
    runtime, and in the builder too when it comes before the installs); None when it can."""
    for command in script_of(doc, ins).commands:
        name = command.name or ""
        words = [w.value for w in command.words]
        if None in words:
            return f"runs `{doc.text[command.start:command.end]}`, whose words depend on variables"
        if hands_over_ownership(words):
            continue  # DF302's chown of what the RUN wrote: the same in either stage
        if name in _SHELLS or name.startswith("."):
            return f"runs {name} {' '.join(words[1:2])}, a script dfix cannot read".rstrip()
        if "/" in (words[0] or "") and not words[0].startswith(("/usr/", "/bin/", "/sbin/")):
            return f"runs {words[0]}, a program of the image's own that dfix cannot read"
        if name in _BUILD_PROGRAMS or name.endswith(("-config", "_config")):
            return f"runs {name}, which builds something the runtime would have to copy from the builder"
        if re.match(r"^python(\d+(\.\d+)?)?$", name) and (
                any(_PYTHON_BUILDS.search(w) for w in words[1:]) or words[1:3] == ["-m", "build"]):
            return "builds a Python package, which the runtime would have to copy from the builder"
        pkg = package_command(command)
        if pkg is not None:
            return f"runs {name} {pkg.action or ''}, which changes what is installed".rstrip()
    return None


def _tool_install(pkg) -> str | None:
    """The tool a `pip install` installs when that is all it installs (with pip/setuptools/wheel at most)."""
    if pkg.action != "install" or not pkg.operands or pkg.has_option("-r", "--requirement", "-e", "--editable"):
        return None
    names = [distribution_name(w.value or "") for w in pkg.operands]
    tools = {TOOL_DISTRIBUTIONS[n] for n in names if n in TOOL_DISTRIBUTIONS}
    if len(tools) != 1 or any(n not in TOOL_DISTRIBUTIONS and n not in TOOL_COMPANIONS for n in names):
        return None
    return tools.pop()


def _companions_only(pkg) -> bool:
    names = [distribution_name(w.value or "") for w in pkg.operands]
    return pkg.action == "install" and bool(names) and all(n in TOOL_COMPANIONS for n in names)


def _pip_like(pkg, plan, ins) -> None:
    if pkg.action != "install" or pkg.has_option("--user", "-e", "--editable", "--prefix", "--target", "-t"):
        plan.problems.append(f"line {ins.line_number} runs pip in a way a virtualenv would change")
    if any(w.value and (w.value.startswith((".", "/")) or "/" in w.value) for w in pkg.operands):
        plan.problems.append(f"line {ins.line_number} installs from a local path, which needs the code in the builder")


def _subcommand(values: list[str]) -> str | None:
    return next((v for v in values[1:] if not v.startswith("-")), None)


def _uv(command, plan, ins) -> str:
    values = [w.value or "" for w in command.words]
    sub = _subcommand(values)
    if values[1:3] == ["pip", "install"]:
        pip_like = package_command(Command(command.words[1:], command.start, command.end))
        if pip_like is None or "--system" not in values:
            plan.problems.append(f"line {ins.line_number} runs uv pip install without --system, into an environment "
                                 "made elsewhere")
        else:
            _pip_like(pip_like, plan, ins)
        if any(v.startswith(("--python", "-p", "--prefix", "--target")) for v in values):
            plan.problems.append(f"line {ins.line_number} names where uv installs")
        plan.installers.add("uv-pip")
        return "deps"
    if sub == "sync":
        if any(v.startswith(("--project", "--directory", "--package", "--all-packages", "--active", "--script",
                             "--python", "-p")) for v in values):
            plan.problems.append(f"line {ins.line_number} runs uv sync on another project or environment")
        plan.installers.add("uv-sync")
        return "deps"
    plan.problems.append(f"line {ins.line_number} runs `uv {sub}`")
    return "deps"


def _poetry(command, plan, ins) -> str:
    values = [w.value or "" for w in command.words]
    sub = _subcommand(values)
    if sub == "config":
        args = [v for v in values[values.index("config") + 1:] if not v.startswith("-")]
        if args[:1] == ["virtualenvs.create"] and args[1:] in (["false"], ["0"]):
            plan.poetry_venv_off = True
        elif args[:1] == ["virtualenvs.in-project"] and args[1:] in (["true"], ["1"]):
            plan.poetry_in_project = True
        elif args[:1] and args[0].startswith("virtualenvs."):
            plan.problems.append(f"line {ins.line_number} sets poetry's {args[0]}")
        return "deps"
    if sub == "install" and not any(v.startswith(("--directory", "-C", "--project", "-P")) for v in values):
        env = plan.doc.env_at(ins)
        plan.poetry_venv_off = plan.poetry_venv_off or _env_is(env, "POETRY_VIRTUALENVS_CREATE", "false", "0")
        plan.poetry_in_project = plan.poetry_in_project or _env_is(env, "POETRY_VIRTUALENVS_IN_PROJECT", "true", "1")
        plan.installers.add("poetry-project" if plan.poetry_in_project and not plan.poetry_venv_off else "poetry")
        return "deps"
    plan.problems.append(f"line {ins.line_number} runs `poetry {sub}`")
    return "deps"


def _pipenv(command, plan, ins) -> str:
    values = [w.value or "" for w in command.words]
    sub = _subcommand(values)
    operands = [v for v in values[values.index(sub) + 1:] if not v.startswith("-")] if sub else []
    if sub not in ("install", "sync") or operands:
        plan.problems.append(f"line {ins.line_number} runs `pipenv {sub}`" + (" with packages" if operands else ""))
    elif "--system" not in values:
        plan.problems.append(f"line {ins.line_number} installs with pipenv into a virtualenv of its own, which the "
                             "runtime reaches only through pipenv")
    plan.installers.add("pipenv")
    return "deps"


def _env_is(env: dict[str, str], name: str, *values: str) -> bool:
    return env.get(name, "").strip("'\"").lower() in values


def _delete(doc, ins) -> Edit:
    """Remove an instruction that moved to the builder, with the comment lines that describe it, and one of
    the blank lines around it when it stood alone between two."""
    first = doc.comment_block_start(ins)
    stop = ins.stop
    after = ins.last_line + 1
    if (0 < first and after < len(doc.lines) and doc.lines[first - 1].kind is LineKind.BLANK
            and doc.lines[after].kind is LineKind.BLANK):
        stop = doc.lines[after].stop
    return Edit.delete(doc.lines[first].start, stop)


def _kept_out(ignore: DockerIgnore, rel: str) -> bool:
    """Whether the ignore file leaves the context's ``rel`` and everything under it out of the build: ignored,
    and no `!` pattern that could bring back something inside (one naming another literal top folder cannot)."""
    if not ignore.ignored(rel):
        return False
    top = rel.split("/")[0]
    for pattern in ignore.patterns:
        if pattern.exclusion:
            head = pattern.text.split("/")[0]
            if any(ch in head for ch in "*?[\\") or head == top:
                return False
    return True


def _unknown_release(base: str) -> str:
    tag = base.split("@")[0].rpartition(":")[2]
    named = next((r for r in OTHER_DEBIAN if r in tag.split("-")), None)
    if named:
        return f"{base} is Debian {named}, whose runtime library names dfix's table does not cover"
    return f"cannot tell which Debian release {base} is built on, to name the runtime libraries"


def _eol(doc, ins, default: str) -> str:
    return doc.lines[ins.last_line].eol or ("" if ins.stop == len(doc.text) else default)
