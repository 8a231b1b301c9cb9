"""A directory lookup service: python-ldap has no wheels, so the image compiles it against libldap."""

import ldap
from flask import Flask

app = Flask(__name__)


@app.route("/health")
def health():
    return {"status": "ok", "ldap": ldap.__version__}


@app.route("/lookup/<uid>")
def lookup(uid):
    return {"filter": ldap.filter.filter_format("(uid=%s)", [uid])}
