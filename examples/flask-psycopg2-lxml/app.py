"""A Flask API on psycopg2 built from source (against the system's libpq) and lxml.

Both are imported at start: without their shared libraries the workers fail to boot.
"""
import psycopg2
import psycopg2.extensions
from flask import Flask
from lxml import etree

app = Flask(__name__)

FEED = b"<feed><entry id='1'>first</entry><entry id='2'>second</entry></feed>"


@app.get("/")
def index():
    root = etree.fromstring(FEED)
    return {"entries": root.xpath("//entry/text()")}


@app.get("/health")
def health():
    return {"status": "ok", "libpq": psycopg2.extensions.libpq_version(), "libxml2": list(etree.LIBXML_VERSION)}


@app.get("/status")
def status():
    # a real query needs a server; quoting goes through libpq without one
    return {"quoted": psycopg2.extensions.QuotedString("it's").getquoted().decode()}
