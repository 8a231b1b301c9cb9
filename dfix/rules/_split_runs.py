"""What each RUN of a stage is to a builder/runtime split (DF403, and DF402's split of a full image): an OS
package install, a Python dependency install (pip, uv, poetry, pipenv), the packaging tool's own install, a
user's creation, or anything else, and, for anything else, why it cannot simply stay where it runs.

classify records on the plan what it learns along the way: the packages installed, the installers and
tools seen, and the problems that stop the split.
"""

from __future__ import annotations

import re

from ..contract import hands_over_ownership
from ..lazy_regex import lazy_compile
from ..syntax.packages import package_command
from ..syntax.shell import Command, script_of
from ._python_tools import TOOL_COMPANIONS, TOOL_DISTRIBUTIONS, distribution_name

_HARMLESS = frozenset({"set", "true", ":", "echo"})
_USER_TOOLS = frozenset({"useradd", "adduser", "groupadd", "addgroup", "mkdir", "chown"})
_APT_QUIET = frozenset({"update", "clean", "autoclean"})
_RPM_TOOLS = frozenset({"dnf", "yum", "microdnf"})
RPM_BUILD_ONLY = frozenset({"gcc", "gcc-c++", "make", "cmake", "autoconf", "automake", "libtool", "rust", "cargo"})


def classify(script, plan, ins) -> str:
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
                rpm_build = [p for p in packages if p in RPM_BUILD_ONLY or p.endswith("-devel")]
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
_PYTHON_BUILDS = lazy_compile(r"(^|/)setup\.py$|^(build_ext|bdist_wheel|bdist_egg|develop|build)$")


def unplaceable(doc, ins) -> str | None:
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
