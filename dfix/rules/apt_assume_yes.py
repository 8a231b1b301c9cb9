from __future__ import annotations

import re

from ..syntax import Edit
from .base import Rule, Safety
from ._shell import package_commands, run_scripts

_SHORT_GROUP = re.compile(r"^-[a-zA-Z]+$")


class AptAssumeYes(Rule):
    code = "DF102"
    name = "apt-assume-yes"
    hadolint = ("DL3014",)
    title = "apt-get install without -y"
    safety = Safety.SAFE
    what = "Adds `-y` to `apt-get install` and `apt install` that would otherwise ask for confirmation."
    why = "A build has no terminal to answer apt's prompt: without -y the install aborts or hangs."
    example = ("RUN apt-get update && apt-get install curl", "RUN apt-get update && apt-get install -y curl")
    fix_safety = "Safe: it only answers the prompt the build could not answer."

    def check(self, doc, ctx):
        for ins, _, script in run_scripts(doc):
            for pkg in package_commands(script, "apt", "install"):
                if assumes_yes(pkg):
                    continue
                yield self.finding(
                    ins.line_number, "apt-get install without -y", [Edit.insert(pkg.subcommand.end, " -y")]
                )


def assumes_yes(pkg) -> bool:
    """-y/--yes/--assume-yes, a short group with y, or quiet level 2 (apt-get: -qq implies -y)."""
    quiet = 0
    for word in pkg.options:
        value = word.value or ""
        if value in ("-y", "--yes", "--assume-yes") or value.startswith("--assume-yes="):
            return True
        if _SHORT_GROUP.match(value) and not value.startswith("--"):
            if "y" in value[1:]:
                return True
            quiet += value[1:].count("q")
        elif value == "--quiet":
            quiet += 1
        elif value in ("-q=2", "--quiet=2"):
            return True
    return quiet == 2
