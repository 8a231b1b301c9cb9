"""What dfix knows about base images: one table (dfix/data/base_images.toml) for every rule.

Rules ask here, never match image names themselves: the OS family and release, the tool that creates
users, the default user and working directory, whether Python and venv are there, the command an app
image inherits. When the table does not know the base, the Dockerfile may show it (`apt-get` in a stage
proves Debian's `useradd`, `apk` Alpine's `adduser`, `dnf`/`yum`/`microdnf` RHEL's rpm tooling), and a stage
built on another stage inherits what its parent proved.
"""

from __future__ import annotations

import fnmatch
import re
import zlib
from functools import lru_cache
from pathlib import Path

from .lazy_regex import lazy_compile
from .records import fields, record, replace

_HUB_PREFIXES = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")
# a tag naming "nonroot" is the convention of distroless, chainguard and others for a non-root default user
_NONROOT_TAG = lazy_compile(r"(:|-)nonroot\b")
USER_TOOL = {"debian": "useradd", "ubuntu": "useradd", "rhel": "useradd", "alpine": "adduser"}


@record(frozen=True)
class BaseFacts:
    """A base image's facts; None where the table does not say."""

    image: str  # the reference looked up, lower case, without digest
    row: str | None = None  # the table row (or hint) the facts come from
    os: str | None = None
    os_release: str | None = None
    user_tool: str | None = None
    package_manager: str | None = None  # RHEL family: dnf, yum, microdnf, or "none"
    shell: bool = True
    user: str | None = None
    uid: int | None = None
    workdir: str | None = None
    python: bool = False
    venv: bool = False
    cmd: tuple[str, ...] = ()
    root_start: str | None = None
    source: str | None = None

    @property
    def known(self) -> bool:
        return self.row is not None

    @property
    def runs_as_root(self) -> bool:
        return self.uid == 0

    @property
    def non_root(self) -> bool:
        return self.uid is not None and self.uid != 0


_FIELDS = {f.name for f in fields(BaseFacts)} - {"image", "row"}


SOURCE = Path(__file__).parent / "data" / "base_images.toml"


@lru_cache(maxsize=1)
def table() -> dict:
    """The table as dfix/data/base_images.toml says. Parsing TOML costs a one-file run more than all its
    rules, so the parsed table is kept as a Python literal (dfix/_base_images_table.py, cached as bytecode
    like any module) and used while it was made from the TOML's current text; else the TOML is parsed."""
    text = SOURCE.read_text("utf-8")
    try:
        from . import _base_images_table as compiled
    except ImportError:  # pragma: no cover - a checkout that deleted it
        compiled = None
    if compiled is not None and compiled.SOURCE_CRC32 == zlib.crc32(text.encode("utf-8")):
        return compiled.TABLE
    return parse(text)


def parse(text: str) -> dict:
    from .tomlreader import tomllib

    table = tomllib().loads(text)
    table["date"] = str(table["date"])  # a TOML date; kept as text, so the compiled copy needs no datetime
    return table


def compiled_source() -> str:
    """dfix/_base_images_table.py for the TOML as it is now (scripts/compile_base_table.py writes it)."""
    import pprint

    text = SOURCE.read_text("utf-8")
    return (
        '"""dfix/data/base_images.toml, parsed: written by scripts/compile_base_table.py, never by hand.\n\n'
        'base_images.table() uses it only while SOURCE_CRC32 matches the TOML\'s text."""\n\n'
        f"SOURCE_CRC32 = {zlib.crc32(text.encode('utf-8'))}\n\n"
        f"TABLE = {pprint.pformat(parse(text), width=120, sort_dicts=False)}\n"
    )


def split_reference(reference: str) -> tuple[str, str]:
    """(name as Docker Hub's official images go by, tag or ""), lower case, digest dropped."""
    rest = reference.strip().lower().partition("@")[0]
    colon = rest.rfind(":")
    name, tag = (rest[:colon], rest[colon + 1:]) if colon > rest.rfind("/") else (rest, "")
    for prefix in _HUB_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return name.removeprefix("library/"), tag


def _row(name: str) -> tuple[str, dict] | None:
    images = table()["images"]
    if name in images:
        return name, images[name]
    patterns = sorted((key for key in images if "*" in key), key=len, reverse=True)
    for key in patterns:
        if fnmatch.fnmatchcase(name, key):
            return key, images[key]
    # a mirror of an official image (public.ecr.aws/docker/library/python, mirror.gcr.io/library/python)
    last = name.rsplit("/", 1)[-1]
    if last != name and last in images and "/" not in last:
        return last, images[last]
    return None


def _apply(facts: BaseFacts, values: dict) -> BaseFacts:
    known = {k: (tuple(v) if k == "cmd" else (v or None) if k == "os_release" else v)
             for k, v in values.items() if k in _FIELDS}
    return replace(facts, **known)


@lru_cache(maxsize=512)
def facts(reference: str) -> BaseFacts:
    """What the table knows about ``reference`` (an image name with tag); ``known`` is False when nothing."""
    name, tag = split_reference(reference)
    result = BaseFacts(image=f"{name}:{tag}" if tag else name)
    found = _row(name)
    if found is not None:
        key, row = found
        result = _apply(replace(result, row=key), row)
        for pattern, values in row.get("variants", {}).items():
            if re.search(pattern, tag):
                result = _apply(result, values)
    else:
        # every hint the name matches adds what earlier ones did not say
        merged: dict = {}
        for pattern, values in table().get("hints", {}).items():
            if re.search(pattern, result.image):
                merged = {**values, **merged}
                result = replace(result, row=result.row or f"hint {pattern}")
        result = _apply(result, merged)
    if _NONROOT_TAG.search(result.image):
        result = replace(result, user="nonroot", uid=result.uid if result.non_root else 65532)
    return result


def family_in_file(doc, chain) -> str | None:
    """The OS family a stage's RUNs (or its parent stages') prove: the package manager they call."""
    from .syntax.packages import package_command

    for command in _run_commands(doc, chain):
        name = command.name
        pkg = package_command(command)
        if pkg is not None and pkg.tool == "apk" or name == "apk":
            return "alpine"
        if pkg is not None and pkg.tool == "apt" or name in ("apt-get", "dpkg"):
            return "debian"
        if name in ("dnf", "yum", "microdnf", "rpm"):
            return "rhel"
    return None


def _run_commands(doc, chain):
    """The commands of every RUN in the given stages, in order (those tree-sitter can read)."""
    from .syntax.shell import script_of

    for link in chain:
        for ins in link.body:
            if ins.keyword == "RUN":
                script = script_of(doc, ins)
                yield from script.commands if script.ok else ()


_RHEL_PACKAGE_MANAGERS = ("microdnf", "dnf", "yum")


def rhel_package_managers_in_file(doc, chain) -> list[str]:
    """The RHEL-family package managers a stage's RUNs (or its parent stages') call, first call first."""
    found: list[str] = []
    for command in _run_commands(doc, chain):
        if command.name in _RHEL_PACKAGE_MANAGERS and command.name not in found:
            found.append(command.name)
    return found


def stage_facts(doc, chain) -> BaseFacts:
    """The facts of the image a stage chain starts from (its first stage's FROM, global ARGs expanded)."""
    return facts(chain[0].base_expanded)


def family(doc, chain) -> str | None:
    """The OS family of a stage: what its RUNs prove first, else what the table says of its base."""
    return family_in_file(doc, chain) or stage_facts(doc, chain).os


def debian_release(image: str, releases: tuple[str, ...], others: tuple[str, ...]) -> str | None:
    """The Debian release an image is built on: a codename in its tag, else the table's release for it."""
    name, tag = split_reference(image)
    for release in releases:
        if release in tag:
            return release
    if any(other in tag.split("-") for other in others):
        return None
    found = facts(image)
    if found.os == "debian" and found.os_release in releases:
        return found.os_release
    return None


def base_workdir(chain) -> str | None:
    """The working directory of the image a stage chain starts from, when the table knows it for certain:
    None for a base it does not know, a base a build argument may change (`FROM $BASE`), or a Windows
    image (whose paths are not POSIX paths)."""
    first = chain[0]
    if "$" in first.base:
        return None
    found = facts(first.base_expanded)
    if found.os == "windows" or (found.row or "").startswith("hint "):  # a name-pattern hint is a guess
        return None
    return found.workdir if (found.workdir or "").startswith("/") else None


def workdir_known_for_certain(chain) -> bool:
    """Whether the base's working directory comes from a row for one official image (python, debian, …),
    not from a `*` row that stands for a family of images which may each set their own."""
    found = facts(chain[0].base_expanded)
    return found.row is not None and not found.row.startswith("hint ") and "*" not in found.row and "/" not in found.row


def workdir_at(doc, ins, including: bool = False) -> str | None:
    """The working directory in force at ``ins`` for certain: the base's own (above) unless an absolute
    WORKDIR on the way sets it; None when neither is known. The one reader every rule and the contract
    guard ask (DF203, DF204, the guard's `WORKDIR X` + RUN + `WORKDIR back` reading, DL3045's folder)."""
    stage = doc.stage_of(ins)
    start = base_workdir(doc.stage_chain(stage)) if stage is not None else "/"
    return doc.workdir_at(ins, including, start=start)
