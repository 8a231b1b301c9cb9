"""Reads its version from git when it starts, as apps that report a build id do: it needs git, which the
full python image has and the slim one does not."""

import http.server
import subprocess

version = subprocess.run(["git", "--version"], check=True, capture_output=True, text=True).stdout.strip()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path in ("/", "/health") else 404)
        self.end_headers()
        self.wfile.write(version.encode() + b"\n")


http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
