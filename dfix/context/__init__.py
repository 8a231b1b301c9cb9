"""The build context: the files next to a Dockerfile that its instructions read."""

from __future__ import annotations

import glob
import os
import tarfile
from pathlib import Path

# magic numbers of the compressions Docker's ADD unpacks (and zstd, which newer BuildKit unpacks too)
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


class BuildContext:
    """A directory used as build context. Paths given to it are context-relative, as in COPY/ADD."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def resolve(self, source: str) -> list[Path] | None:
        """The files a COPY/ADD source names (globs expanded); None when it escapes the context."""
        rel = source.lstrip("/")
        candidate = os.path.normpath(os.path.join(self.root, rel))
        if not (candidate == str(self.root) or candidate.startswith(str(self.root) + os.sep)):
            return None
        if any(ch in rel for ch in "*?["):
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
        try:
            with tarfile.open(path, "r:") as archive:
                return archive.next() is not None
        except (tarfile.TarError, OSError, EOFError):
            return False
