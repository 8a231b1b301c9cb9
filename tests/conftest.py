from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def buildkit():
    """BuildKit's parser; the tests need it (it is the oracle), so its absence is a failure, not a skip."""
    import dockerfile

    return dockerfile


def buildkit_lines(text: str):
    import dockerfile

    return [(c.start_line, c.end_line) for c in dockerfile.parse_string(text)]
