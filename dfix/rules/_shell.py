"""Queries the package rules share: RUN scripts and the package-manager commands in them."""

from __future__ import annotations

from typing import Iterator

from ..syntax import Document, Instruction
from ..syntax.packages import PackageCommand, package_command
from ..syntax.shell import Script, script_of


def run_scripts(doc: Document, onbuild: bool = True) -> Iterator[tuple[Instruction, Instruction, Script]]:
    """(instruction, the RUN itself, parsed script) for every RUN whose shell could be read."""
    for ins in doc.instructions:
        run = ins.inner if ins.inner is not None and onbuild else ins
        if run.keyword != "RUN":
            continue
        script = script_of(doc, ins)
        if script.ok:
            yield ins, run, script


def package_commands(script: Script, tool: str, *actions: str) -> Iterator[PackageCommand]:
    for command in script.commands:
        pkg = package_command(command)
        if pkg is not None and pkg.tool == tool and (not actions or pkg.action in actions):
            yield pkg
