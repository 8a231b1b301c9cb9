from __future__ import annotations

from ..syntax import Edit
from .base import Rule, Safety
from ..syntax.tool_options import tool_options
from ._shell import run_scripts

_INSTALLS = (("sync",), ("pip", "install"))
class UvNoCache(Rule):
    code = "DF107"
    name = "uv-no-cache"
    hadolint = ()
    title = "uv sync / uv pip install without --no-cache"
    safety = Safety.SAFE
    what = "Adds `--no-cache` to `uv sync` and `uv pip install`."
    why = (
        "uv keeps every wheel it downloads and builds in ~/.cache/uv; in an image layer that cache is dead "
        "weight, and with the install split in two layers it is written twice."
    )
    example = ("RUN uv sync --frozen", "RUN uv sync --no-cache --frozen")
    fix_safety = (
        "Safe: the same packages are installed. Not applied under a uv cache mount (the flag would defeat it), "
        "when UV_NO_CACHE or UV_CACHE_DIR is set, when the command chooses its own --cache-dir, or when it "
        "already says --no-cache another way (`--no-cache-dir`, which uv takes as an alias, or `-n` in a "
        "cluster such as `-qn`): uv refuses the flag given twice."
    )

    def check(self, doc, ctx):
        for ins, run, script in run_scripts(doc):
            # most RUNs run no uv: the mounts and the ENV in force are asked only of those that do
            uv_commands = [command for command in script.commands if command.name == "uv"]
            if not uv_commands:
                continue
            if run.has_cache_mount(contains=".cache/uv"):
                continue
            if ins.inner is None and {"UV_NO_CACHE", "UV_CACHE_DIR"} & set(doc.env_at(ins)):
                continue
            for command in uv_commands:
                values = [w.value for w in command.words]
                if None in values:
                    continue
                for sub in _INSTALLS:
                    if values[1:1 + len(sub)] == list(sub):
                        break
                else:
                    continue
                # uv takes --no-cache-dir and -n (also in a cluster such as -qn) as --no-cache, and refuses
                # the flag twice under any of its names
                if {"--no-cache", "--cache-dir"} & set(tool_options("uv", values[1:])):
                    continue
                if {"UV_NO_CACHE", "UV_CACHE_DIR"} & set(command.assignments):
                    continue
                anchor = command.words[len(sub)]
                yield self.finding(ins.line_number, f"uv {' '.join(sub)} without --no-cache",
                                   [Edit.insert(anchor.end, " --no-cache")])
