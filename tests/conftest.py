from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EXAMPLES = ROOT / "examples"
# the team's folder next to the main checkout; a clone on its own has none. Its sample apps are copied
# into examples/, which the tests always read; ../shared's own copies are read as well when present
SHARED = ROOT.parent / "shared"
SHARED_EXAMPLES = SHARED / "examples"
NO_SHARED = f"no {SHARED_EXAMPLES} next to this checkout (a clone on its own): its copies in examples/ are tested"
needs_shared = pytest.mark.skipif(not SHARED_EXAMPLES.is_dir(), reason=NO_SHARED)


def same_files(first: Path, second: Path) -> bool:
    """Whether two folders hold the same files with the same bytes (caches aside)."""
    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}

    return files(first) == files(second)


@pytest.fixture(scope="session")
def buildkit():
    """BuildKit's parser; the tests need it (it is the oracle), so its absence is a failure, not a skip."""
    import dockerfile

    return dockerfile


def buildkit_lines(text: str):
    import dockerfile

    return [(c.start_line, c.end_line) for c in dockerfile.parse_string(text)]
