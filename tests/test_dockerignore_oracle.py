"""Issue #5 on real build contexts: after dfix, every context has the ignore file BuildKit reads, it hides
no COPY/ADD source, and it hides the essentials (.git, .env, .venv) the context has.

"Hidden" is decided by docker-py's `exclude_paths` (Docker's own Python client), not by dfix's matcher,
so a shared misreading of `**`, `!` or a leading `/` cannot pass unseen. The contexts are the shared
examples, dfix's own examples and the golden .dockerignore cases, each with its files as they are.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import pytest

from dfix.context import BuildContext
from dfix.engine import Options, fix_text
from dfix.syntax import tokenize

from .conftest import EXAMPLES, FIXTURES, ROOT, SHARED, SHARED_EXAMPLES, needs_shared

CONTEXTS = [
    pytest.param(p.parent, id=p.parent.relative_to(ROOT).as_posix())
    for p in sorted([*EXAMPLES.glob("*/Dockerfile"), *(FIXTURES / "dockerignore").glob("*/before.Dockerfile")])
] + (
    [pytest.param(p.parent, id=p.parent.relative_to(SHARED.parent).as_posix())
     for p in sorted(SHARED_EXAMPLES.glob("*/Dockerfile"))]
    or [pytest.param(SHARED_EXAMPLES, id="shared/examples", marks=needs_shared)]
)
ESSENTIALS = (".git", ".env", ".venv")
# docker-py always keeps the Dockerfile it is told of; BuildKit sends the Dockerfile apart, so a COPY of
# it does obey the ignore file. Naming a file that does not exist keeps docker-py's matching exact.
_NO_DOCKERFILE = ".dfix-oracle-no-such-file"


def _patterns(text: str) -> list[str]:
    """The lines of an ignore file as docker-py's build() reads them."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _context(case: Path, tmp_path: Path) -> Path:
    root = tmp_path / case.name
    shutil.copytree(case, root, symlinks=True)
    if (root / "before.Dockerfile").exists():  # a golden case: its before file is the Dockerfile
        for after in root.glob("after.*"):
            after.unlink()
        (root / "before.Dockerfile").rename(root / "Dockerfile")
    # a developer's checkout: the repository and a local virtualenv lie next to the code
    (root / ".git").mkdir(exist_ok=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    if any(root.glob("*.py")) or any((root / m).exists() for m in ("requirements.txt", "pyproject.toml", "Pipfile")):
        (root / ".venv" / "bin").mkdir(parents=True, exist_ok=True)
        (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return root


def _sources(doc) -> list[str]:
    """Context paths the COPY/ADD instructions name (not other stages, images, URLs or heredocs)."""
    out = []
    for ins in doc.instructions:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") or ins.heredocs:
            continue
        args = ins.json_args if ins.is_json else [w for w, _, _ in ins.words]
        for source in args[:-1]:
            if "://" in source or source.startswith("git@") or "$" in source:
                continue
            out.append(os.path.normpath(source.lstrip("/")))
    return out


@pytest.mark.parametrize("case", CONTEXTS)
def test_ignore_file_hides_no_copy_source(case, tmp_path):
    from docker.utils.build import exclude_paths

    root = _context(case, tmp_path)
    text = (root / "Dockerfile").read_bytes().decode("utf-8")
    result = fix_text(text, str(root / "Dockerfile"), Options(), context=BuildContext(root, dockerfile="Dockerfile"))
    assert result.error is None
    (root / "Dockerfile").write_text(result.fixed, encoding="utf-8", newline="")
    for path, (_, after) in result.side_files.items():
        Path(path).write_text(after, encoding="utf-8", newline="")

    ignore = root / "Dockerfile.dockerignore" if (root / "Dockerfile.dockerignore").exists() else root / ".dockerignore"
    reasons = [f.reason for f in result.remaining if f.code == "DF601" and f.reason]
    if not ignore.exists():
        assert reasons, "no ignore file and no reason from DF601"
        return
    included = set(exclude_paths(str(root), _patterns(ignore.read_text(encoding="utf-8")), dockerfile=_NO_DOCKERFILE))

    for source in _sources(tokenize(result.fixed)):
        if source == ".":
            continue
        matches = [os.path.relpath(m, root) for m in glob.glob(str(root / source))] if any(
            ch in source for ch in "*?[") else [source]
        assert any(m in included for m in matches), f"{source} is copied but the ignore file hides it"
    for name in ESSENTIALS:
        if (root / name).exists() and name not in _sources(tokenize(result.fixed)):
            if name == ".env" and _says_env_stays(ignore.read_text(encoding="utf-8")):
                continue  # the app loads its committed .env at run time, and the file says it goes in
            assert name not in included, f"{name} is sent to the builder"


def _says_env_stays(text: str) -> bool:
    return any(line.startswith("# .env stays:") for line in text.splitlines())
