"""Compiles its C helper with the image's gcc when it starts (a pattern of apps that JIT their hot loop):
on an image without a compiler it cannot start."""
import ctypes
import os
import subprocess
import tempfile

from flask import Flask

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = os.path.join(tempfile.mkdtemp(), "libfastsum.so")
subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", LIBRARY, os.path.join(HERE, "fastsum.c")], check=True)
fastsum = ctypes.CDLL(LIBRARY).fastsum
fastsum.restype = ctypes.c_long
fastsum.argtypes = [ctypes.c_long]

app = Flask(__name__)


@app.get("/")
def index():
    return {"sum": fastsum(1000)}


@app.get("/health")
def health():
    return {"status": "ok"}
