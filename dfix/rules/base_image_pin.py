from __future__ import annotations

import json
import os
from functools import lru_cache

from ..lazy_regex import lazy_compile
from ..records import record
from ..syntax import Edit, expand_args
from .base import Rule, Safety

_TAG = lazy_compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = lazy_compile(r"sha256:[0-9a-f]{64}")
_VARIABLE = lazy_compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_UNKNOWN = "\x00"  # stands in for an ARG without a default: its value comes from --build-arg
_HUB_PREFIXES = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")


@record(frozen=True)
class ImageRef:
    """`name[:tag][@digest]`, with the offsets of its parts in the reference text."""

    text: str
    name: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        rest, at, digest = text.partition("@")
        colon = rest.rfind(":")
        if colon > rest.rfind("/"):
            return cls(text, rest[:colon], rest[colon + 1:], digest if at else None)
        return cls(text, rest, None, digest if at else None)

    @property
    def hub_name(self) -> str:
        """The name Docker Hub's official images go by: docker.io/library/python -> python."""
        return hub_name(self.name)

    @property
    def floating_tag(self) -> str:
        return self.tag if self.tag is not None else "latest"

    @property
    def tag_span(self) -> tuple[int, int]:
        """Where the tag is in ``text`` (an empty span after the name when there is none)."""
        if self.tag is None:
            return len(self.name), len(self.name)
        start = len(self.name) + 1
        return start, start + len(self.tag)


def hub_name(name: str) -> str:
    for prefix in _HUB_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return name.removeprefix("library/")


@record(frozen=True)
class Table:
    date: str
    images: dict

    def pin(self, image: str, tag: str) -> str | None:
        entry = self.images.get(image, {})
        if tag in entry.get("tags", {}):
            return entry["tags"][tag]
        for line in entry.get("lines", ()):
            for suffix, pinned in entry.get("release", {}).items():
                if tag == line + suffix:
                    return line + pinned
        return None

    def note(self, image: str) -> str | None:
        return self.images.get(image, {}).get("note")


@lru_cache(maxsize=1)
def shipped_table() -> Table:
    from ..base_images import table

    data = table()
    return Table(str(data["date"]), data["images"])


@record(frozen=True)
class Base:
    """A stage's FROM image as far as pinning is concerned; ``skip`` says why it is not to be touched."""

    ref: ImageRef | None
    start: int = 0  # source offset of the reference text
    variables: tuple[str, ...] = ()
    skip: str | None = None


def stage_base(doc, stage) -> Base:
    ins = stage.from_instruction
    if not ins.words or stage.parent is not None or stage.base_expanded.lower() == "scratch":
        return Base(None, skip="not an image")
    word, lo, hi = ins.words[0]
    names = tuple(dict.fromkeys(_VARIABLE.findall(word)))
    if names:
        known = {n: doc.global_args.get(n) or _UNKNOWN for n in names}
        return Base(ImageRef.parse(expand_args(word, known)), variables=names, skip="variable")
    start, end = ins.source_span(lo, hi)
    if doc.text[start:end] != word or doc.escape in word:
        return Base(ImageRef.parse(word), skip="the image reference is split over lines or escaped")
    return Base(ImageRef.parse(word), start)


def is_latest(ref: ImageRef) -> bool:
    return ref.digest is None and ref.tag in (None, "latest")


class BaseImagePin(Rule):
    code = "DF401"
    name = "base-image-pin"
    hadolint = ("DL3006", "DL3007")
    title = "base image without an explicit tag, or :latest"
    safety = Safety.MIGRATION
    what = (
        "Pins an untagged or `:latest` FROM image, and a floating variant tag (`python:slim`, "
        "`node:lts-alpine`), to the explicit tag it stood for on the date of dfix's table of common images "
        "(`dfix/data/base_images.toml`, overridable with the `base-image-pins` config key); the variant is "
        "kept. A Python version tag that still follows the newest Debian release gets that release "
        "pinned (`python:3.12-slim` -> `python:3.12-slim-trixie`). With `--pin-digest`, every FROM image also "
        "gets the digest a local podman or docker knows for it (`image:tag@sha256:...`, the tag kept). "
        "An image that is not in the table, or whose reference comes from an ARG, is reported."
    )
    why = (
        "`latest` and version-only tags move: a rebuild months later silently brings a new language "
        "version or Debian release (trixie replaced bookworm under `python:3.12-slim` in Aug 2025 and "
        "broke builds whose apt packages were renamed). An explicit tag makes that upgrade a reviewed "
        "change; a digest makes the build reproducible."
    )
    example = ("FROM python:slim AS app", "FROM python:3.15-slim-trixie AS app")
    fix_safety = (
        "Migration: on the table's date the pinned tag names the same image as the floating one, so the "
        "fix changes the Dockerfile's text, not what a build gets; only the tag changes (registry, name, "
        "`--platform`, `AS name` and the keyword's case are kept byte for byte), and the contract guard "
        "checks exactly that. The table is dated: after the date a floating tag may have moved on, and the "
        "pin then holds the image back at the table's version — which is the point of pinning, but "
        "review the pin. A digest is written only when a local engine resolves it (no registry is asked), "
        "never under `--platform` (the local digest is one platform's), and the reason is reported where "
        "it cannot be."
    )
    changes = frozenset({"base-tag"})

    def check(self, doc, ctx):
        overrides = _overrides(ctx.options.get("base_image_pins") or {})
        pin_digest = bool(ctx.options.get("pin_digest"))
        for stage in doc.stages:
            base = stage_base(doc, stage)
            if base.ref is None:
                continue
            if base.skip == "variable":
                yield from self._variable(stage, base, pin_digest)
            elif base.ref.digest is None:  # a digest names one image whatever the tag says
                yield from self._pin(stage, base, overrides, pin_digest)

    def _variable(self, stage, base, pin_digest):
        ref, line = base.ref, stage.from_instruction.line_number
        args = ", ".join(base.variables)
        # an ARG without a default may be anything; only a tag known to be missing or latest is reported
        if _UNKNOWN not in ref.text[len(ref.name):] and ref.text != _UNKNOWN and is_latest(ref):
            shown = ref.text.replace(_UNKNOWN, "?")
            yield self.finding(line, f"FROM {stage.base} is {_floating_words(ref)}",
                               reason=f"the image comes from ARG {args} ({shown}); pin it where the ARG is set")
        elif pin_digest and ref.digest is None:
            yield self.finding(line, f"FROM {stage.base} has no digest",
                               reason=f"the image comes from ARG {args}; digest not pinned")

    def _pin(self, stage, base, overrides, pin_digest):
        ref, line = base.ref, stage.from_instruction.line_number
        table = shipped_table()
        floating = ref.floating_tag
        key = f"{ref.hub_name}:{floating}"
        pinned = overrides.get(key) or table.pin(ref.hub_name, floating)
        if pinned == ref.tag:
            pinned = None
        message = f"FROM {ref.text} is {_floating_words(ref)}"
        if pinned is None and not is_latest(ref):
            if pin_digest and base.skip is None:
                yield from self._digest(stage, base, line)
            return
        if base.skip is not None:
            yield self.finding(line, message, reason=base.skip)
        elif pinned is None:
            reason = table.note(ref.hub_name) or f"no pin known for {ref.name}; add one under base-image-pins in .dfix.toml or [tool.dfix]"
            yield self.finding(line, message, reason=reason)
        elif not _valid_pin(pinned):
            yield self.finding(line, message, reason=f"the pin for {key} is not a tag: {pinned!r}")
        else:
            digest = ""
            if pin_digest and "@" not in pinned and not stage.from_instruction.flag("platform"):
                # when the engine does not know the pinned tag, the next pass reports why
                digest = local_digest(f"{ref.name}:{pinned}")
                digest = "@" + digest if digest else ""
            lo, hi = ref.tag_span
            text = pinned + digest if ref.tag is not None else f":{pinned}{digest}"
            source = "from the base-image-pins config" if key in overrides else f"what {key} meant on {table.date}"
            yield self.finding(line, f"{message}: pinned to {ref.name}:{pinned} ({source})",
                               [Edit(base.start + lo, base.start + hi, text)])

    def _digest(self, stage, base, line):
        ref = base.ref
        message = f"FROM {ref.text} has no digest"
        if stage.from_instruction.flag("platform"):
            yield self.finding(line, message, reason="--platform: a local engine knows only its own platform's digest; digest not pinned")
            return
        digest = local_digest(ref.text)
        if digest is None:
            yield self.finding(line, message, reason=f"no local engine knows {ref.text}; digest not pinned")
            return
        end = base.start + len(ref.text)
        yield self.finding(line, f"{message}: pinned to the local engine's {digest[:19]}…", [Edit.insert(end, "@" + digest)])


def _floating_words(ref: ImageRef) -> str:
    if ref.tag is None:
        return "untagged (latest)"
    if ref.tag == "latest":
        return ":latest"
    return f"a floating tag (:{ref.tag})"


def _valid_pin(tag: str) -> bool:
    name, at, digest = tag.partition("@")
    return bool(_TAG.fullmatch(name)) and (not at or bool(_DIGEST.fullmatch(digest)))


def _overrides(pins: dict) -> dict[str, str]:
    """The user's pins keyed like the table: "python" and "python:latest" -> "python:latest"."""
    out = {}
    for key, tag in pins.items():
        ref = ImageRef.parse(str(key))
        out[f"{ref.hub_name}:{ref.floating_tag}"] = str(tag)
    return out


# -- digests from a local engine -----------------------------------------------------------------

_DIGESTS: dict[tuple, str | None] = {}


def local_digest(image: str) -> str | None:
    """The digest podman or docker has for ``image``, asking no registry; None when neither knows it."""
    env = os.environ
    key = (image, env.get("PATH"), env.get("CONTAINERS_STORAGE_CONF"), env.get("DOCKER_HOST"), env.get("CONTAINER_HOST"))
    if key not in _DIGESTS:
        _DIGESTS[key] = _podman_digest(image) or _docker_digest(image)
    return _DIGESTS[key]


def _inspect(engine: str, image: str, template: str) -> str | None:
    import shutil
    import subprocess  # only --pin-digest asks an engine

    path = shutil.which(engine)
    if path is None:
        return None
    try:
        proc = subprocess.run(
            [path, "image", "inspect", "--format", template, image],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _podman_digest(image: str) -> str | None:
    out = _inspect("podman", image, "{{.Digest}}")
    return out if out and _DIGEST.fullmatch(out) else None


def _docker_digest(image: str) -> str | None:
    # docker knows a digest only for images pulled from (or pushed to) a registry, one per repository:
    # take the one of this image's repository, not whichever name the image was first pulled under
    out = _inspect("docker", image, "{{json .RepoDigests}}")
    try:
        digests = json.loads(out or "[]") or []
    except ValueError:
        return None
    wanted = hub_name(ImageRef.parse(image).name)
    for entry in digests:
        name, _, digest = str(entry).partition("@")
        if hub_name(name) == wanted and _DIGEST.fullmatch(digest):
            return digest
    return None
