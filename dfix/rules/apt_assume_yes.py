from __future__ import annotations

from ..syntax import Edit
from ..syntax.tool_options import APT_ASSUME_NO, APT_ASSUME_YES, apt_assumes_yes, apt_bool
from .base import Rule, Safety
from ._shell import package_commands, run_scripts

class AptAssumeYes(Rule):
    code = "DF102"
    name = "apt-assume-yes"
    hadolint = ("DL3014",)
    title = "apt-get install without -y"
    safety = Safety.SAFE
    what = "Adds `-y` to `apt-get install` and `apt install` that would otherwise ask for confirmation."
    why = "A build has no terminal to answer apt's prompt: without -y the install aborts or hangs."
    example = ("RUN apt-get update && apt-get install curl", "RUN apt-get update && apt-get install -y curl")
    fix_safety = (
        "Safe: it only answers the prompt the build could not answer. Not applied when the command already "
        "answers it another way (`--yes`, `--assume-yes`, a cluster such as `-qy`, `-qq`, "
        "`-o APT::Get::Assume-Yes=true`) or says no on purpose (`--assume-no`)."
    )

    def check(self, doc, ctx):
        for ins, _, script in run_scripts(doc):
            for pkg in package_commands(script, "apt", "install"):
                if assumes_yes(pkg):
                    continue
                yield self.finding(
                    ins.line_number, "apt-get install without -y", [Edit.insert(pkg.subcommand.end, " -y")]
                )


def assumes_yes(pkg) -> bool:
    """Whether the command already decides apt's prompt: it assumes yes (-y under any name, alone or in a
    cluster, `-o APT::Get::Assume-Yes=true`, or quiet level 2, which apt-get takes as -y), or it says no on
    purpose (`--assume-no`, `--no-assume-yes`, `-y=no`), which an added -y would overrule: apt-get lets -y
    win over --assume-no, and the last setting wins."""
    settings = pkg.apt_settings()
    if apt_assumes_yes(settings):
        return True
    return APT_ASSUME_YES in settings or apt_bool(settings.get(APT_ASSUME_NO, "")) is True
