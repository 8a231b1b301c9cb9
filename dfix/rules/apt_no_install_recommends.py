from __future__ import annotations

from ..syntax import Edit
from ..syntax.tool_options import APT_INSTALL_RECOMMENDS
from .base import Rule, Safety
from ._shell import package_commands, run_scripts

_YES_WORDS = frozenset({"-y", "--yes", "--assume-yes"})


class AptNoInstallRecommends(Rule):
    code = "DF101"
    name = "apt-no-install-recommends"
    hadolint = ("DL3015",)
    title = "apt-get install without --no-install-recommends"
    safety = Safety.SAFE
    what = "Adds `--no-install-recommends` to `apt-get install` and `apt install`."
    why = (
        "Recommended packages are not dependencies: apt installs them only because the distribution suggests "
        "them, often tens of megabytes of documentation, fonts and tools nobody asked for."
    )
    example = ("RUN apt-get install -y curl", "RUN apt-get install -y --no-install-recommends curl")
    fix_safety = (
        "Safe for the packages named: their dependencies are still installed. A program that relied on a "
        "recommended package without naming it would lose it, which is why the fix names the flag in the diff. "
        "Not applied when the command sets APT::Install-Recommends itself, either way (`--install-recommends`, "
        "`-o APT::Install-Recommends=0`)."
    )

    def check(self, doc, ctx):
        for ins, _, script in run_scripts(doc):
            for pkg in package_commands(script, "apt", "install"):
                if _recommends_chosen(pkg):
                    continue
                anchor = pkg.subcommand
                following = [w for w in pkg.command.words if w.start > anchor.end]
                if following and following[0].value in _YES_WORDS:
                    anchor = following[0]
                yield self.finding(
                    ins.line_number,
                    "apt-get install without --no-install-recommends",
                    [Edit.insert(anchor.end, " --no-install-recommends")],
                )


def _recommends_chosen(pkg) -> bool:
    """Whether the command itself sets APT::Install-Recommends, either way (--no-install-recommends,
    --install-recommends[=bool], -o APT::Install-Recommends=…, in any case): apt-get takes the last setting, so
    an added flag would either repeat the choice or overrule it."""
    return APT_INSTALL_RECOMMENDS in pkg.apt_settings()
