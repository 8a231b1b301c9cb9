from __future__ import annotations

from pathlib import PurePosixPath

from ..context.python import canonical_name, follow_requirements, pinned_versions, pins_in
from ..lazy_regex import lazy_compile
from .base import Rule, Safety
from ._python_tools import distribution_name
from ._shell import package_commands, run_scripts

_READS_FILE = ("-r", "--requirement", "-c", "--constraint")
_SPECIFIER = lazy_compile(r"[<>=!~@]")


class PipVersionPin(Rule):
    code = "DF109"
    name = "pip-version-pin"
    hadolint = ("DL3013",)
    title = "pip installs a package without the version a file in the build context pins"
    safety = Safety.REPORT
    what = (
        "Reports a `pip install` of a package without a version when a requirements or constraints file "
        "(`name==version`), poetry.lock, uv.lock, pdm.lock or Pipfile.lock in the build context pins it, and "
        "says which file and version."
    )
    why = (
        "The project has already chosen the version: installing the package by name takes whatever is newest "
        "on the day of the build, so the image and the lock file disagree, and a rebuild may change it."
    )
    example = ("RUN pip install flask gunicorn", "RUN pip install flask==3.0.3 gunicorn==22.0.0")
    fix_safety = (
        "Report only: whether the image should follow the lock (or the lock is for something else, such as "
        "development) is the author's choice. Unpinned installs with no pin in the context stay hadolint's "
        "DL3013; apt and apk (DL3008, DL3018) have no lock files to compare with."
    )

    def check(self, doc, ctx):
        context = ctx.build_context
        if context is None:
            return
        pins = None
        for ins, run, script in run_scripts(doc):
            for pkg in package_commands(script, "pip", "install"):
                names = [(w.value, distribution_name(w.value)) for w in pkg.operands
                         if w.value is not None and not _SPECIFIER.search(w.value) and "/" not in w.value]
                names = [(operand, name) for operand, name in names if name]
                if not names:
                    continue
                if pins is None:
                    pins = pinned_versions(context)
                if not pins:
                    return
                read = _pinned_by_the_install(context, pkg)
                pinned = [(name, pins[name]) for _, name in names if name in pins and name not in read]
                if not pinned:
                    continue
                said = ", ".join(f"{name} is pinned to {version} in {rel}" for name, (version, rel) in pinned)
                yield self.finding(ins.line_number, f"pip installs without a version what the context pins: {said}",
                                   reason="install the pinned versions (name==version, or -r/-c the file) if the "
                                          "image should match them")


def _pinned_by_the_install(context, pkg) -> set[str]:
    """Names the install pins itself through the -r/-c files it reads (and their includes), found in the
    context by the path as written or, for a file copied to the WORKDIR, by its name at the context's top."""
    files = []
    values = [w.value or "" for w in pkg.arguments]
    for index, value in enumerate(values):
        if value in _READS_FILE:
            files.append(values[index + 1] if index + 1 < len(values) else "")
        elif value.startswith(tuple(o + "=" for o in _READS_FILE)):
            files.append(value.split("=", 1)[1])
        elif value[:2] in ("-r", "-c") and len(value) > 2:
            files.append(value[2:])
    names: set[str] = set()
    for written in files:
        rel = written.removeprefix("./").lstrip("/")
        if not context.exists(rel):
            rel = PurePosixPath(rel).name
        if not rel or not context.exists(rel):
            continue
        for found in follow_requirements(context, [rel]).files:
            names.update(canonical_name(name) for name, _ in pins_in(found, context.read_text(found) or ""))
    return names
