"""Keeps its content in a git repository it creates and commits to (a wiki-style app): it runs git, which
the full python image has and the slim one does not, when it starts."""
import os
import subprocess
import tempfile

from flask import Flask

STORE = tempfile.mkdtemp()


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", STORE, *args], check=True, capture_output=True, text=True).stdout


git("init", "--quiet")
git("-c", "user.name=app", "-c", "user.email=app@example.invalid", "commit", "--quiet", "--allow-empty", "-m", "start")

app = Flask(__name__)


@app.get("/")
def index():
    return {"commits": int(git("rev-list", "--count", "HEAD"))}


@app.get("/health")
def health():
    return {"status": "ok"}
