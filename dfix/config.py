"""Project configuration: `.dfix.toml` (top-level keys) or `[tool.dfix]` in `pyproject.toml`.

The nearest one to each Dockerfile governs it, looking from the Dockerfile's folder up to the git
repository's root (a folder holding `.git`, a worktree's `.git` file included) or the filesystem root.
Lookups are cached by folder, so a tree of thousands of Dockerfiles reads each config file once per
process, and folders without one cost a few stats.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .records import record, replace

if TYPE_CHECKING:
    from .engine import Options

DFIX_TOML = ".dfix.toml"
PYPROJECT = "pyproject.toml"
MAX_UID = 2**31 - 1  # some tools read UIDs as signed 32-bit

_KEYS = ("select", "ignore", "per-file-ignores", "unsafe-fixes", "uid", "base-image-pins")


class ConfigError(Exception):
    """A config file dfix cannot use; `path` is the file, the message one line."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@record(frozen=True)
class Config:
    path: Path  # the file, absolute
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    per_file_ignores: tuple[tuple[str, object, frozenset[str]], ...] = ()  # (glob, compiled, codes)
    unsafe_fixes: bool = False
    uid: int | None = None
    base_image_pins: tuple[tuple[str, str], ...] = ()

    @property
    def folder(self) -> Path:
        return self.path.parent

    def apply(self, options: "Options", dockerfile: str) -> "Options":
        """`options` (the command line's) over this config, for the Dockerfile at absolute path `dockerfile`.

        A --select on the command line states the whole selection, so the config's select and ignore
        give way to it; --ignore adds to the config's ignore. per-file-ignores always apply: they say
        what a file is, not what this run is for.
        """
        cli_selects = options.select is not None
        ignore = options.ignore | (frozenset() if cli_selects else self.ignore)
        if self.per_file_ignores:
            rel = Path(os.path.relpath(dockerfile, self.folder)).as_posix()
            for _, spec, codes in self.per_file_ignores:
                if spec.match_file(rel):
                    ignore |= codes
        pins = dict(self.base_image_pins)
        pins.update(options.base_image_pins or {})
        return replace(
            options,
            select=options.select if cli_selects else self.select,
            ignore=ignore,
            unsafe_fixes=options.unsafe_fixes or self.unsafe_fixes,
            uid=options.uid if options.uid is not None else self.uid,
            base_image_pins=pins or None,
        )


_CACHE: dict[str, "Config | ConfigError | None"] = {}


def options_for(dockerfile: Path, options: "Options") -> "Options":
    """The options for one Dockerfile: the command line's over its nearest config. Raises ConfigError."""
    full = os.path.abspath(dockerfile)
    found = find_config(os.path.dirname(full))
    if isinstance(found, ConfigError):
        raise found
    return options if found is None else found.apply(options, full)


def find_config(folder: str) -> "Config | ConfigError | None":
    """The config governing Dockerfiles in `folder` (absolute), or the error that makes it unusable."""
    walked: list[str] = []
    found: Config | ConfigError | None = None
    current = folder
    while True:
        if current in _CACHE:
            found = _CACHE[current]
            break
        walked.append(current)
        found = _here(current)
        if found is not None or os.path.exists(os.path.join(current, ".git")):
            break
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for seen in walked:
        _CACHE[seen] = found
    return found


def _here(folder: str) -> "Config | ConfigError | None":
    path = os.path.join(folder, DFIX_TOML)
    if os.path.isfile(path):
        try:
            return _parse(Path(path), _load(Path(path)), "")
        except ConfigError as err:
            return err
    path = os.path.join(folder, PYPROJECT)
    if os.path.isfile(path):
        try:
            # most pyprojects say nothing of dfix: skip them unparsed, and do not fail on one that is not
            # valid TOML (a cookiecutter template, say) unless it may be meant for us
            with open(path, "rb") as handle:
                if b"dfix" not in handle.read():
                    return None
            data = _load(Path(path))
            section = data.get("tool", {}).get("dfix") if isinstance(data.get("tool"), dict) else None
            if section is None:
                return None
            if not isinstance(section, dict):
                raise ConfigError(Path(path), "[tool.dfix] must be a table")
            return _parse(Path(path), section, " in [tool.dfix]")
        except OSError as err:
            return ConfigError(Path(path), f"cannot read: {err.strerror or err}")
        except ConfigError as err:
            return err
    return None


def _load(path: Path) -> dict:
    from .tomlreader import tomllib

    toml = tomllib()
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise ConfigError(path, f"cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(path, f"not UTF-8 text (invalid byte at offset {err.start})") from None
    try:
        return toml.loads(text)
    except toml.TOMLDecodeError as err:
        raise ConfigError(path, f"invalid TOML: {err}") from None


def _parse(path: Path, data: dict, where: str) -> Config:
    def fail(message: str):
        raise ConfigError(path, message + where)

    for key in data:
        if key not in _KEYS:
            near = key.replace("_", "-")
            fail(f"unknown key {key!r}" + (f" (did you mean {near!r}?)" if near in _KEYS else ""))
    values: dict = {}
    if "select" in data:
        values["select"] = _codes(data["select"], "select", fail)
    if "ignore" in data:
        values["ignore"] = _codes(data["ignore"], "ignore", fail)
    if "unsafe-fixes" in data:
        if not isinstance(data["unsafe-fixes"], bool):
            fail("'unsafe-fixes' must be true or false")
        values["unsafe_fixes"] = data["unsafe-fixes"]
    if "uid" in data:
        uid = data["uid"]
        # bool is an int in Python; `uid = true` is a mistake, not UID 1
        if type(uid) is not int or not 1 <= uid <= MAX_UID:
            fail(f"'uid' must be an integer from 1 to {MAX_UID} (a non-root user)")
        values["uid"] = uid
    if "base-image-pins" in data:
        pins = data["base-image-pins"]
        if not isinstance(pins, dict) or not all(isinstance(v, str) and v.strip() for v in pins.values()):
            fail("'base-image-pins' must be a table of image or image:tag = \"tag\"")
        values["base_image_pins"] = tuple(sorted(pins.items()))
    if "per-file-ignores" in data:
        values["per_file_ignores"] = _per_file(data["per-file-ignores"], fail)
    return Config(path, **values)


def _codes(value, key: str, fail) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        fail(f"{key!r} must be a list of codes, e.g. [\"DF101\", \"DF3\", \"DL3015\"]")
    from .rules import unknown_code

    codes = frozenset(v.strip().upper() for v in value)
    for code in sorted(codes):
        why = unknown_code(code)
        if why is not None:  # a code that names no rule would silently select or ignore nothing
            fail(f"{key}: {code}: {why}")
    return codes


def _per_file(value, fail) -> tuple:
    if not isinstance(value, dict):
        fail("'per-file-ignores' must be a table of \"glob\" = [codes]")
    import pathspec  # only for configs that have per-file-ignores

    out = []
    for glob, codes in value.items():
        try:
            spec = pathspec.GitIgnoreSpec.from_lines([glob])
        except Exception as err:  # pathspec raises several types for a bad pattern
            fail(f"per-file-ignores: bad glob {glob!r}: {err}")
        if not any(p.include for p in spec.patterns):  # blank, a comment, a lone negation
            fail(f"per-file-ignores: {glob!r} matches no file")
        out.append((glob, spec, _codes(codes, f"per-file-ignores.{glob}", fail)))
    return tuple(out)
