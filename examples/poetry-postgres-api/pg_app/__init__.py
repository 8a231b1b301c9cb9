# psycopg2 is compiled in the image against libpq: importing it fails when libpq5 is missing at run time
import psycopg2
from flask import Flask

app = Flask(__name__)


@app.get("/health")
def health():
    return {"status": "ok", "libpq": psycopg2.__libpq_version__}
