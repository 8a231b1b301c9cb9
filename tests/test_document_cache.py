"""tokenize gives one Document per recent text: the engine's passes, DF601's read of the sibling Dockerfiles
and DF403's check of its split read the same texts again. What a Document works out is a function of its
text alone; what depends on more (the build context) must not be taken from a shared one."""

from __future__ import annotations

from pathlib import Path

from dfix.engine import Options
from dfix.runner import process_file
from dfix.syntax import document, tokenize

TEXT = "FROM python:3.12-slim\nWORKDIR /app\nENV A=1\nRUN pip install flask\n"


def test_the_same_text_gives_the_same_document_and_another_text_its_own():
    doc = tokenize(TEXT)
    assert tokenize(TEXT) is doc and tokenize(TEXT.encode()) is doc
    other = tokenize(TEXT.replace("A=1", "A=2"))
    assert other is not doc and other.render() != doc.render()
    assert other.env_at(other.instructions[-1]) == {"A": "2"} and doc.env_at(doc.instructions[-1]) == {"A": "1"}


def test_the_documents_kept_are_bounded():
    texts = [f"FROM alpine:3.{i}\n" for i in range(document._DOCUMENTS_KEPT + 10)]
    docs = [tokenize(t) for t in texts]
    assert len(document._DOCUMENTS) <= document._DOCUMENTS_KEPT
    again = tokenize(texts[0])  # long gone: read afresh, and right
    assert again is not docs[0] and again.stages[0].base == "alpine:3.0"


APP = 'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/{route}")\ndef health():\n    return {{}}\n'
DOCKERFILE = ('FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir fastapi uvicorn\n'
              'CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]\n')


def test_one_text_in_two_build_contexts_reads_each_context(tmp_path: Path):
    """Two Dockerfiles alike to the byte share a Document; the app each one's context holds is its own."""
    fixed = {}
    for route in ("healthz", "ping"):
        folder = tmp_path / route
        folder.mkdir()
        (folder / "main.py").write_text(APP.format(route=route))
        (folder / "Dockerfile").write_text(DOCKERFILE)
        result = process_file(folder / "Dockerfile", Options(), write=False)
        assert result.error is None, result.error
        fixed[route] = result.fixed
    assert "8000/healthz'" in fixed["healthz"] and "8000/ping'" in fixed["ping"]
