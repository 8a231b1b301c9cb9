"""What a package tool's own option parser makes of a command line's words: the one place that knows each
tool's aliases, abbreviations, short clusters and settings, so a rule asks "does this command already mean
--no-cache-dir?" instead of comparing spellings (a flag added twice under another name broke a real build:
uv refuses `--no-cache` after `--no-cache-dir`).

Learnt from the tools themselves (pip 23.2's optparse, uv 0.13's clap, apt-get 2.6 on Debian 12); the
tests hand dfix's output to the real pip and uv parsers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

# --- pip (optparse: unique prefixes of long options are accepted, short options cluster: -qU) -----------
# pip install's long options (pip 23.2, plus later ones such as --group), True when it takes a value
PIP_LONG = {
    **dict.fromkeys(
        ("--abi", "--cache-dir", "--cert", "--client-cert", "--config-settings", "--constraint",
         "--default-timeout", "--editable", "--exists-action", "--extra-index-url", "--find-links",
         "--global-option", "--implementation", "--index-url", "--keyring-provider", "--local-log", "--log",
         "--log-file", "--no-binary", "--only-binary", "--platform", "--prefix", "--progress-bar", "--proxy",
         "--pypi-url", "--python", "--python-version", "--report", "--requirement", "--retries", "--root",
         "--root-user-action", "--source", "--source-dir", "--source-directory", "--src", "--target",
         "--timeout", "--trusted-host", "--upgrade-strategy", "--use-deprecated", "--use-feature", "--group",
         "--resume-retries"),
        True,
    ),
    **dict.fromkeys(
        ("--break-system-packages", "--check-build-dependencies", "--compile", "--debug",
         "--disable-pip-version-check", "--dry-run", "--force-reinstall", "--help", "--ignore-installed",
         "--ignore-requires-python", "--isolated", "--no-build-isolation", "--no-cache-dir", "--no-clean",
         "--no-color", "--no-compile", "--no-dependencies", "--no-deps", "--no-index", "--no-input",
         "--no-python-version-warning", "--no-use-pep517", "--no-user", "--no-warn-conflicts",
         "--no-warn-script-location", "--pre", "--prefer-binary", "--quiet", "--require-hashes",
         "--require-venv", "--require-virtualenv", "--upgrade", "--use-pep517", "--user", "--verbose",
         "--version"),
        False,
    ),
}
PIP_TAKES_VALUE = frozenset(option for option, valued in PIP_LONG.items() if valued)
PIP_SHORT = {"r": "--requirement", "c": "--constraint", "e": "--editable", "t": "--target", "U": "--upgrade",
             "I": "--ignore-installed", "C": "--config-settings", "i": "--index-url", "f": "--find-links",
             "h": "--help", "v": "--verbose", "V": "--version", "q": "--quiet"}

# --- uv (clap: no abbreviations; --no-cache-dir is an alias of --no-cache, and a flag given twice, under
# any of its names, is refused: "the argument '--no-cache' cannot be used multiple times") --------------
UV_ALIASES = {"--no-cache-dir": "--no-cache"}
UV_SHORT = {"n": "--no-cache", "q": "--quiet", "v": "--verbose", "U": "--upgrade", "p": "--python",
            "r": "--requirements", "e": "--editable", "c": "--constraints", "i": "--index-url",
            "f": "--find-links", "P": "--upgrade-package", "C": "--config-setting", "t": "--target",
            "b": "--build-constraints", "o": "--output-file", "h": "--help", "V": "--version"}
UV_TAKES_VALUE = frozenset({"--python", "--requirements", "--editable", "--constraints", "--index-url",
                            "--find-links", "--upgrade-package", "--config-setting", "--target",
                            "--build-constraints", "--output-file", "--cache-dir", "--directory", "--project",
                            "--extra", "--group", "--no-group", "--only-group", "--package", "--index",
                            "--default-index", "--extra-index-url", "--prefix", "--overrides", "--link-mode",
                            "--python-platform", "--python-version", "--config-file", "--color",
                            "--index-strategy", "--keyring-provider", "--resolution", "--prerelease",
                            "--exclude-newer", "--reinstall-package", "--no-build-package",
                            "--no-binary-package", "--refresh-package", "--no-install-package", "--torch-backend",
                            "--allow-insecure-host", "--python-preference", "--no-binary", "--only-binary"})

# --- apk (its --no-cache; apk 3 also spells the opposite --cache) ------------------------------------------
APK_TAKES_VALUE = frozenset({"-X", "--repository", "-p", "--root", "--arch", "-t", "--virtual", "--cache-dir",
                             "--keys-dir", "--repositories-file", "--cache-max-age", "--timeout"})

# --- apt-get / apt (apt's CommandLine: short clusters -qy, -o Key=Value, --no-X and --X=bool for boolean
# options, -q counts; settings are applied in order, the last one wins; configuration keys ignore case) ------
APT_TAKES_VALUE = frozenset({"-o", "--option", "-c", "--config-file", "-t", "--target-release",
                             "--default-release", "-a", "--host-architecture"})
APT_ASSUME_YES = "apt::get::assume-yes"
APT_ASSUME_NO = "apt::get::assume-no"
APT_INSTALL_RECOMMENDS = "apt::install-recommends"
APT_QUIET = "quiet"
# the boolean options apt-get install reads, by every name, and the configuration key each one sets
_APT_BOOLEANS = {
    "-y": APT_ASSUME_YES, "--yes": APT_ASSUME_YES, "--assume-yes": APT_ASSUME_YES,
    "--assume-no": APT_ASSUME_NO, "--install-recommends": APT_INSTALL_RECOMMENDS,
}
_APT_SHORT_VALUE = frozenset("octa")
_TRUE = frozenset({"yes", "true", "with", "on", "enable"})
_FALSE = frozenset({"no", "false", "without", "off", "disable"})


def apt_bool(value: str) -> bool | None:
    """apt's StringToBool: yes/true/with/on/enable, no/false/without/off/disable, or a number."""
    value = value.strip().strip('"').lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value.lstrip("-").isdigit():
        return int(value) != 0
    return None


def apt_settings(words: Iterable[str | None]) -> dict[str, str]:
    """The configuration an apt-get command line sets, keys lower-cased, later settings winning; `quiet` is
    the level the -q options add up to (apt: quiet level 2 implies -y)."""
    settings: dict[str, str] = {}
    items = list(words)
    k = 0
    while k < len(items):
        word = items[k] or ""
        k += 1
        nxt = items[k] if k < len(items) else None
        if word in ("-o", "--option"):
            if nxt is not None:
                _apt_assign(settings, nxt)
            k += 1
        elif word.startswith("--option="):
            _apt_assign(settings, word[len("--option="):])
        elif word in APT_TAKES_VALUE:
            k += 1
        elif word.startswith("--"):
            name, eq, value = word.partition("=")
            negated = name.startswith("--no-") and ("--" + name[5:]) in _APT_BOOLEANS
            key = _APT_BOOLEANS.get("--" + name[5:] if negated else name)
            if name == "--quiet":
                if eq:
                    settings[APT_QUIET] = value
                else:
                    settings[APT_QUIET] = str(_quiet(settings) + 1)
            elif key is not None:
                on = apt_bool(value) if eq else True
                if on is not None:
                    settings[key] = "true" if on != negated else "false"
        elif word.startswith("-") and len(word) > 1:
            letters = word[1:]
            if letters[1:2] == "=":  # -q=2, -y=no: one option with a value
                letter, _, value = letters.partition("=")
                if letter == "q":
                    settings[APT_QUIET] = value
                elif letter == "y" and apt_bool(value) is not None:
                    settings[APT_ASSUME_YES] = "true" if apt_bool(value) else "false"
                continue
            for index, letter in enumerate(letters):
                if letter in _APT_SHORT_VALUE:
                    rest = letters[index + 1:]
                    if letter == "o":
                        if rest:
                            _apt_assign(settings, rest)
                        elif nxt is not None:
                            _apt_assign(settings, nxt)
                    if not rest:
                        k += 1
                    break
                if letter == "q":
                    settings[APT_QUIET] = str(_quiet(settings) + 1)
                elif letter == "y":
                    settings[APT_ASSUME_YES] = "true"
    return settings


def _apt_assign(settings: dict[str, str], assignment: str) -> None:
    key, eq, value = assignment.partition("=")
    if eq:
        settings[key.strip().lower()] = value


def _quiet(settings: dict[str, str]) -> int:
    try:
        return int(settings.get(APT_QUIET, "0").strip().strip('"'))
    except ValueError:
        return 0


def apt_assumes_yes(settings: dict[str, str]) -> bool:
    """Whether apt-get answers its own prompt: Assume-Yes, or quiet level 2 and up (checked: -qq, -q=2,
    -qqq, `-o quiet=2` install without asking; `-qq -o quiet=0` asks again)."""
    return apt_bool(settings.get(APT_ASSUME_YES, "")) is True or _quiet(settings) >= 2


# --- options by their canonical names -------------------------------------------------------------------

def pip_long(word: str) -> str | None:
    """The pip option a long word names, abbreviation included (`--no-cache` is `--no-cache-dir`); None when
    it is no pip install option or an ambiguous prefix (pip refuses those itself)."""
    name = word.partition("=")[0]
    if name in PIP_LONG:
        return name
    matches = [option for option in PIP_LONG if option.startswith(name)]
    return matches[0] if len(matches) == 1 and len(name) > 2 else None


def pip_takes_value(word: str) -> bool:
    """Whether pip reads the next word as this option's value (`--req file`, `-r file`, `-qr file`)."""
    if word.startswith("--"):
        option = pip_long(word)
        return option is not None and "=" not in word and PIP_LONG[option]
    return _short_takes_value(word, PIP_SHORT, PIP_TAKES_VALUE)


def _short_takes_value(word: str, shorts: dict[str, str], valued: set[str] | frozenset[str]) -> bool:
    letters = word[1:]
    for index, letter in enumerate(letters):
        option = shorts.get(letter)
        if option is None:
            return False
        if option in valued:
            return index == len(letters) - 1
    return False


_SHORTS = {"pip": (PIP_SHORT, PIP_TAKES_VALUE), "uv": (UV_SHORT, UV_TAKES_VALUE)}
_NO_SHORTS: tuple[dict[str, str], frozenset[str]] = ({}, frozenset())


def tool_options(tool: str, words: Iterable[str | None]) -> Iterator[str]:
    """The canonical long names of the options among a command's words, clusters split (`-qn` gives
    --quiet and --no-cache for uv), abbreviations resolved (pip), aliases mapped (uv). Words that are not
    options of the tool's known set come back as they are."""
    items = [w for w in words if w is not None]
    k = 0
    while k < len(items):
        word = items[k]
        k += 1
        if not word.startswith("-") or word == "-":
            continue
        if word == "--":
            break
        if word.startswith("--"):
            name = word.partition("=")[0]
            if tool == "pip":
                option = pip_long(word) or name
                if "=" not in word and PIP_LONG.get(option):
                    k += 1
            elif tool == "uv":
                option = UV_ALIASES.get(name, name)
                if "=" not in word and option in UV_TAKES_VALUE:
                    k += 1
            else:
                option = name
                if "=" not in word and option in (APK_TAKES_VALUE if tool == "apk" else APT_TAKES_VALUE):
                    k += 1
            yield option
            continue
        shorts, valued = _SHORTS.get(tool, _NO_SHORTS)
        if not shorts:
            yield word
            if word in (APK_TAKES_VALUE if tool == "apk" else APT_TAKES_VALUE):
                k += 1
            continue
        letters = word[1:]
        for index, letter in enumerate(letters):
            option = shorts.get(letter, "-" + letter)
            yield option
            if option in valued:
                if index == len(letters) - 1:
                    k += 1
                break
