"""Package-manager commands in a RUN: which tool, which subcommand, its options and operands."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .shell import Command, Word

APT_TOOLS = frozenset({"apt-get", "apt"})
# options that take the next word as their value, per tool (joined forms like -oX or --opt=X are one word)
_OPTION_ARGS = {
    "apt": frozenset({"-o", "--option", "-c", "--config-file", "-t", "--target-release", "--default-release",
                      "-a", "--host-architecture"}),
    "apk": frozenset({"-X", "--repository", "-p", "--root", "--arch", "-t", "--virtual", "--cache-dir",
                      "--keys-dir", "--repositories-file", "--cache-max-age", "--timeout"}),
    "pip": frozenset({"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
                      "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--src",
                      "--upgrade-strategy", "--platform", "--python-version", "--implementation", "--abi",
                      "--no-binary", "--only-binary", "--progress-bar", "--cache-dir", "--log", "--proxy",
                      "--timeout", "--retries", "--trusted-host", "--cert", "--client-cert", "--exists-action",
                      "-C", "--config-settings", "--global-option", "--report", "--root-user-action", "--python",
                      "--keyring-provider", "--use-feature", "--use-deprecated", "--group"}),
}
_PIP_NAME = re.compile(r"^pip(\d+(\.\d+)?)?$")
_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?$")


@dataclass(slots=True)
class PackageCommand:
    tool: str  # "apt" (apt-get/apt), "apk" or "pip"
    command: Command
    subcommand: Word | None
    options: list[Word]  # every option word, before and after the subcommand
    operands: list[Word]  # non-option words after the subcommand (packages, paths)

    def has_option(self, *names: str) -> bool:
        for word in self.options:
            value = word.value or ""
            for name in names:
                if value == name or (name.startswith("--") and value.startswith(name + "=")):
                    return True
        return False

    @property
    def action(self) -> str | None:
        return self.subcommand.value if self.subcommand else None


def package_command(command: Command) -> PackageCommand | None:
    if command.package is False:
        command.package = _package_command(command)
    return command.package  # type: ignore[return-value]


def _package_command(command: Command) -> PackageCommand | None:
    name = command.name
    words = command.words
    if name in APT_TOOLS:
        return _split("apt", command, words[1:])
    if name == "apk":
        return _split("apk", command, words[1:])
    if name and _PIP_NAME.match(name):
        return _split("pip", command, words[1:])
    if name and _PYTHON_NAME.match(name):
        values = [w.value for w in words]
        for k in range(1, len(values) - 1):
            if values[k] == "-m" and values[k + 1] == "pip":
                return _split("pip", command, words[k + 2:])
            if values[k] is None or not values[k].startswith("-"):  # type: ignore[union-attr]
                break
    return None


def _split(tool: str, command: Command, rest: list[Word]) -> PackageCommand:
    takes_value = _OPTION_ARGS[tool]
    options: list[Word] = []
    operands: list[Word] = []
    subcommand: Word | None = None
    skip_next = False
    for word in rest:
        value = word.value
        if skip_next:
            skip_next = False
            continue
        if value is not None and value.startswith("-") and value != "-":
            options.append(word)
            skip_next = value in takes_value
            continue
        if subcommand is None:
            subcommand = word
        else:
            operands.append(word)
    return PackageCommand(tool, command, subcommand, options, operands)
