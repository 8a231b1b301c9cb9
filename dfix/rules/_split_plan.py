"""The builder/runtime split of a stage that installs compilers or -dev headers (DF403, and DF402's split of
a full python image): what the stage's RUNs are (dfix/rules/_split_runs.py), where the dependencies'
environment lives, and why a stage cannot be split (a reason the finding reports). What the split then
writes is SplitText's (dfix/rules/_split_text.py).
"""

from __future__ import annotations

import posixpath
import re

from .. import base_images
from ..context.dockerignore import DockerIgnore
from ..context.python import declared_distributions, imported_top_level_modules
from ..lazy_regex import lazy_compile
from ..syntax.shell import script_of
from ._python_tools import TOOL_PROGRAMS, UV_IMAGE, undeclared_tool_imports
from ._runtime_libs import OTHER_DEBIAN, debian_release, is_build_only, runtime_counterpart
from ._split_runs import RPM_BUILD_ONLY, classify, unplaceable
from ._split_text import VENV, SplitText
from .dependency_layer_order import _context_path, _copy_mapping

# Paths that say the app expects packages where a plain `pip install` puts them, not in a virtualenv
_SYSTEM_SITE = lazy_compile(r"/usr/local/lib/python|site-packages|/usr/local/bin/python|\bvenv\b|VIRTUAL_ENV")
# a uv project keeps its environment where uv put it, so only the system paths matter there
_SYSTEM_PATHS = lazy_compile(r"/usr/local/lib/python|site-packages|/usr/local/bin/python")
_PROJECT_ENV_INSTALLERS = frozenset({"uv-sync", "poetry-project"})


class SplitPlan(SplitText):
    """One stage's split: its RUNs sorted by what they are to it, and why it cannot be made (None: it can)."""

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
            kind = classify(script, plan, ins)
            getattr(plan, kind).append(ins)
        plan.build_only = [p for _, p in plan.installed if is_build_only(p, plan.alpine) or p.endswith("-devel")
                           or p in RPM_BUILD_ONLY]
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
            reason = unplaceable(doc, ins)
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
            reason = unplaceable(doc, ins)
            if reason:
                return f"line {ins.line_number} {reason}"
        return self._runtime_reason(doc, stage)


def run_kind(script, ins) -> str:
    """What the split makes of a RUN's commands: package_runs, dep_runs, tool_runs, user_runs or other_runs."""
    return classify(script, SplitPlan(ins.doc), ins)


def plans_on(doc, stage, full_base: bool = False) -> bool:
    """Whether the split (DF403; DF402 with ``full_base``) has a plan for the stage's RUNs."""
    return SplitPlan.of(doc, stage, full_base=full_base) is not None


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
