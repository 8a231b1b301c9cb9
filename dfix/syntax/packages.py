"""Package-manager commands in a RUN: which tool, which subcommand, its options and operands."""

from __future__ import annotations


from ..lazy_regex import lazy_compile
from ..records import field, record
from .shell import Command, Word
from .tool_options import APK_TAKES_VALUE, APT_TAKES_VALUE, apt_settings, pip_takes_value, tool_options

APT_TOOLS = frozenset({"apt-get", "apt"})
# options that take the next word as their value, per tool (joined forms like -oX or --opt=X are one word);
# pip's are read through its own abbreviation and cluster rules
_OPTION_ARGS = {"apt": APT_TAKES_VALUE, "apk": APK_TAKES_VALUE}
_PIP_NAME = lazy_compile(r"^pip(\d+(\.\d+)?)?$")
_PYTHON_NAME = lazy_compile(r"^python(\d+(\.\d+)?)?$")


@record(slots=True)
class PackageCommand:
    tool: str  # "apt" (apt-get/apt), "apk" or "pip"
    command: Command
    subcommand: Word | None
    options: list[Word]  # every option word, before and after the subcommand
    operands: list[Word]  # non-option words after the subcommand (packages, paths)
    arguments: list[Word] = field(default_factory=list)  # every word after the program (after `-m pip`)
    # apt_settings' answer, once asked: DF101 and DF102 both read it, every pass, of the same command
    _apt_settings: dict[str, str] | None = field(init=False, default=None)

    def has_option(self, *names: str) -> bool:
        for word in self.options:
            value = word.value or ""
            for name in names:
                if value == name or (name.startswith("--") and value.startswith(name + "=")):
                    return True
        return False

    def means(self, *names: str) -> bool:
        """Whether the tool itself reads one of these long options in the command, under any spelling it
        accepts: an alias, an abbreviation (pip), a short option alone or in a cluster."""
        return any(option in names for option in tool_options(self.tool, [w.value for w in self.arguments]))

    def apt_settings(self) -> dict[str, str]:
        """The apt configuration the command line sets (tool_options.apt_settings); the caller must not change it."""
        if self._apt_settings is None:
            self._apt_settings = apt_settings(w.value for w in self.arguments)
        return self._apt_settings

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
    if not name or name[0] != "p":  # the regexes below only for names that may match (most commands do not)
        return None
    if _PIP_NAME.match(name):
        return _split("pip", command, words[1:])
    if _PYTHON_NAME.match(name):
        values = [w.value for w in words]
        for k in range(1, len(values) - 1):
            if values[k] == "-m" and values[k + 1] == "pip":
                return _split("pip", command, words[k + 2:])
            if values[k] is None or not values[k].startswith("-"):  # type: ignore[union-attr]
                break
    return None


def _split(tool: str, command: Command, rest: list[Word]) -> PackageCommand:
    takes_value = _OPTION_ARGS.get(tool, frozenset())
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
            skip_next = pip_takes_value(value) if tool == "pip" else value in takes_value
            continue
        if subcommand is None:
            subcommand = word
        else:
            operands.append(word)
    return PackageCommand(tool, command, subcommand, options, operands, list(rest))
