from __future__ import annotations

from ..syntax import Edit
from .base import Rule, Safety
from ._shell import package_commands, run_scripts

_PIP_CACHE = ".cache/pip"


class PipNoCacheDir(Rule):
    code = "DF105"
    name = "pip-no-cache-dir"
    hadolint = ("DL3042",)
    title = "pip install without --no-cache-dir"
    safety = Safety.SAFE
    what = "Adds `--no-cache-dir` to `pip install`."
    why = "pip keeps every downloaded wheel in ~/.cache/pip; in an image layer that cache is dead weight."
    example = ("RUN pip install -r requirements.txt", "RUN pip install --no-cache-dir -r requirements.txt")
    fix_safety = (
        "Safe: the same packages are installed. Not applied under a pip cache mount (the flag would defeat "
        "it), when PIP_NO_CACHE_DIR is set, or when the command chooses its own --cache-dir or already says --no-cache-dir another way (pip "
        "takes any unique prefix of it, such as `--no-cache`)."
    )

    def check(self, doc, ctx):
        for ins, run, script in run_scripts(doc):
            # most RUNs install nothing with pip: the mounts and the ENV in force (a walk of the stage chain
            # on each pass's new document) are asked only of those that do
            installs = list(package_commands(script, "pip", "install"))
            if not installs:
                continue
            if run.has_cache_mount(contains=_PIP_CACHE) or run.has_cache_mount("/root/.cache"):
                continue
            if ins.inner is None and "PIP_NO_CACHE_DIR" in doc.env_at(ins):
                continue
            for pkg in installs:
                # pip reads unique prefixes too: `--no-cache` already is --no-cache-dir
                if pkg.means("--no-cache-dir", "--cache-dir") or "PIP_NO_CACHE_DIR" in pkg.command.assignments:
                    continue
                yield self.finding(
                    ins.line_number,
                    "pip install without --no-cache-dir",
                    [Edit.insert(pkg.subcommand.end, " --no-cache-dir")],
                )
