from __future__ import annotations

from ..syntax import Edit
from .base import Rule, Safety
from ._shell import package_commands, run_scripts


class ApkNoCache(Rule):
    code = "DF106"
    name = "apk-no-cache"
    hadolint = ("DL3019",)
    title = "apk add without --no-cache"
    safety = Safety.SAFE
    what = "Adds `--no-cache` to `apk add`."
    why = "Without it apk keeps the package index and downloaded packages in /var/cache/apk inside the layer."
    example = ("RUN apk add curl", "RUN apk add --no-cache curl")
    fix_safety = (
        "Safe: apk fetches a fresh index for the command and installs the same packages. Not applied when "
        "the command asks for the cache with apk 3's `--cache`."
    )

    def check(self, doc, ctx):
        for ins, run, script in run_scripts(doc):
            adds = list(package_commands(script, "apk", "add"))
            if not adds or run.has_cache_mount("/var/cache/apk", "/etc/apk/cache"):  # the mounts only of apk's RUNs
                continue
            for pkg in adds:
                # apk 3 also has the opposite, --cache: a command that asks for the cache keeps it
                if pkg.means("--no-cache", "--cache"):
                    continue
                yield self.finding(
                    ins.line_number, "apk add without --no-cache", [Edit.insert(pkg.subcommand.end, " --no-cache")]
                )
