"""The build context: the files next to a Dockerfile that its instructions read."""

from __future__ import annotations

import os
from pathlib import Path

# magic numbers of the compressions Docker's ADD unpacks (and zstd, which newer BuildKit unpacks too)
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


class BuildContext:
    """A directory used as build context. Paths given to it are context-relative, as in COPY/ADD."""

    def __init__(self, root: Path, overlay: dict[str, str] | None = None, dockerfile: str | None = None,
                 on_disk: dict[str, bool] | None = None) -> None:
        self.root = root
        self.dockerfile = dockerfile  # the Dockerfile's name, when it lies in this folder
        # what exists on disk, asked once per file's fix: the passes all ask, and nothing writes meanwhile
        self._on_disk: dict[str, bool] = {} if on_disk is None else on_disk
        # files a fix has rewritten but not yet written: later passes must read these, not the disk
        self.overlay: dict[str, str] = dict(overlay or {})

    def with_changes(self, changes: dict[str, str]) -> BuildContext:
        return BuildContext(self.root, {**self.overlay, **changes}, self.dockerfile, self._on_disk)

    def ignore_file(self) -> str:
        """The ignore file BuildKit reads for this Dockerfile: `<name>.dockerignore` first, then `.dockerignore`."""
        if self.dockerfile:
            own = f"{self.dockerfile}.dockerignore"
            if self.exists(own):
                return own
        return ".dockerignore"

    def read_text(self, rel: str) -> str | None:
        """A context file's text as the pending fixes leave it; None when it does not exist or is not text."""
        rel = rel.lstrip("/")
        if rel in self.overlay:
            return self.overlay[rel]
        if not self.exists(rel):
            return None  # known from an earlier pass: no failing open each time
        try:
            # bytes, not read_text(): universal newlines would turn CRLF into LF
            return (self.root / rel).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def exists(self, rel: str) -> bool:
        rel = rel.lstrip("/")
        if rel in self.overlay:
            return True
        known = self._on_disk.get(rel)
        if known is None:
            known = self._on_disk[rel] = os.path.exists(os.path.join(self.root, rel))
        return known

    def resolve(self, source: str) -> list[Path] | None:
        """The files a COPY/ADD source names (globs expanded); None when it escapes the context."""
        rel = source.lstrip("/")
        candidate = os.path.normpath(os.path.join(self.root, rel))
        if not (candidate == str(self.root) or candidate.startswith(str(self.root) + os.sep)):
            return None
        if any(ch in rel for ch in "*?["):
            import glob

            return [Path(p) for p in glob.glob(candidate)]
        path = Path(candidate)
        return [path] if path.exists() or path.is_symlink() else []

    def is_archive(self, path: Path) -> bool:
        """Whether ADD would unpack this file: a (compressed) tar, judged by content as Docker does."""
        if not path.is_file():
            return False
        try:
            with open(path, "rb") as handle:
                head = handle.read(512)
        except OSError:
            return True  # unreadable: cannot prove it is not an archive
        if head.startswith(_COMPRESSED_MAGIC):
            return True
        if len(head) < 512:
            return False
        import tarfile  # only an ADD of a large local file asks

        try:
            with tarfile.open(path, "r:") as archive:
                return archive.next() is not None
        except (tarfile.TarError, OSError, EOFError):
            return False
