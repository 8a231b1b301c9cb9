"""Queries the package rules share: RUN scripts and the package-manager commands in them."""

from __future__ import annotations

from typing import Iterator

from ..syntax import Document, Instruction
from ..syntax.packages import PackageCommand, package_command
from ..syntax.shell import Script, script_of


def run_scripts(doc: Document, onbuild: bool = True) -> Iterator[tuple[Instruction, Instruction, Script]]:
    """(instruction, the RUN itself, parsed script) for every RUN whose shell could be read."""
    # the package rules each ask once a pass of the same document: the list is made once for all of them
    cache = doc.__dict__.setdefault("_run_scripts", {})
    runs = cache.get(onbuild)
    if runs is None:
        runs = cache[onbuild] = tuple(_run_scripts(doc, onbuild))
    return iter(runs)


def _run_scripts(doc: Document, onbuild: bool) -> Iterator[tuple[Instruction, Instruction, Script]]:
    for ins in doc.instructions:
        run = ins.inner if ins.inner is not None and onbuild else ins
        if run.keyword != "RUN":
            continue
        script = script_of(doc, ins)
        if script.ok:
            yield ins, run, script


# script -> its package-manager commands; the script is kept with them so its id is not reused while cached
_PACKAGES: dict[int, tuple[Script, tuple[PackageCommand, ...]]] = {}


def package_commands(script: Script, tool: str, *actions: str) -> Iterator[PackageCommand]:
    found = _PACKAGES.get(id(script))
    if found is None or found[0] is not script:
        if len(_PACKAGES) > 512:  # a RUN's Script is shared only by the passes over one file
            _PACKAGES.clear()
        found = _PACKAGES[id(script)] = (script, tuple(
            pkg for pkg in map(package_command, script.commands) if pkg is not None
        ))
    for pkg in found[1]:
        if pkg.tool == tool and (not actions or pkg.action in actions):
            yield pkg
