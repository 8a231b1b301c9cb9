"""apt facts shared by the update and cleanup rules."""

from __future__ import annotations

from ..syntax import Document, Instruction
from ..syntax.packages import package_command
from ..syntax.shell import Script, script_of

# apt actions that read the package lists in /var/lib/apt/lists
NEEDS_LISTS = frozenset(
    {"install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "source", "download", "satisfy",
     "reinstall", "policy", "show", "search", "list"}
)
LISTS_DIR = "/var/lib/apt/lists"


def apt_actions(script: Script) -> list[str]:
    out = []
    for command in script.commands:
        if command.name == "apt-cache":
            out.append("cache")
            continue
        if command.name == "aptitude" and len(command.words) > 1 and command.words[1].value == "update":
            out.append("update")
            continue
        pkg = package_command(command)
        if pkg is not None and pkg.tool == "apt" and pkg.action:
            out.append(pkg.action)
    return out


def relies_on_lists(doc: Document, ins: Instruction) -> bool:
    """Whether this RUN reads apt lists it did not fetch itself (so an earlier cleanup would break it)."""
    script = script_of(doc, ins)
    if not script.ok:
        return "apt" in ins.logical and "update" not in ins.logical
    for action in apt_actions(script):
        if action == "update":
            return False
        if action in NEEDS_LISTS or action == "cache":
            return True
    return False


def is_update_only(script: Script) -> bool:
    return script.ok and len(script.commands) == 1 and apt_actions(script) == ["update"]


def removes_lists(script: Script) -> bool:
    for command in script.commands:
        if command.name == "rm" and any((w.value or "").startswith(LISTS_DIR) for w in command.words[1:]):
            return True
    return False


def lists_are_cached(ins: Instruction) -> bool:
    return ins.has_cache_mount(LISTS_DIR, "/var/lib/apt")
