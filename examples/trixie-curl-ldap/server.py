"""A status page that checks an LDAP directory and an HTTPS upstream: pycurl and python-ldap are compiled
against Debian's libcurl (OpenSSL build) and libldap, so importing them loads those libraries."""

import ldap
import pycurl
from flask import Flask

app = Flask(__name__)


@app.route("/health")
def health():
    # "libcurl/8.x OpenSSL/3.x ...": the libcurl and the TLS library pycurl was linked against, loaded
    return {"status": "ok", "curl": pycurl.version, "ldap": ldap.__version__,
            "ldap_api": ldap.get_option(ldap.OPT_API_INFO)["vendor_version"]}


@app.route("/lookup/<uid>")
def lookup(uid):
    return {"filter": ldap.filter.filter_format("(uid=%s)", [uid])}
