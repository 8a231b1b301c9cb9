"""Writes dfix/_base_images_table.py from dfix/data/base_images.toml: run it after editing the TOML.

Until it is run, dfix parses the TOML itself (correct, ~15 ms slower a run); tests/test_base_images.py
fails while the compiled table is stale, so CI says when it was forgotten.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dfix import base_images  # noqa: E402

target = Path(base_images.__file__).with_name("_base_images_table.py")
target.write_text(base_images.compiled_source(), encoding="utf-8")
print(f"wrote {target}")
