"""DF403: a single-stage Python image that ships compilers and -dev headers, split into a builder and a
runtime. The split itself (reading the stage, judging it, writing it) is SplitPlan's: dfix/rules/_split_plan.py."""

from __future__ import annotations

from ._runtime_libs import is_build_only
from ._split_plan import SplitPlan
from .base import Rule, Safety


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
        plan = SplitPlan.of(doc, stage)
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
