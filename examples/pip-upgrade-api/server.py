"""A version endpoint whose answer depends on a pinned library: the image's packaging must be 24.1, the
version requirements.txt pins, not whatever the base image happened to bring."""

import http.server
import json
from importlib.metadata import version

from packaging.version import Version

PINNED = Version(version("packaging"))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path not in ("/", "/health"):
            self.send_error(404)
            return
        body = json.dumps({"packaging": str(PINNED), "pip": version("pip")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("0.0.0.0", 8142), Handler).serve_forever()
