"""A tiny app started with `uv run`, which syncs the environment (dev group included) before it starts."""
import http.server

import six


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path in ("/", "/health") else 404)
        self.end_headers()
        self.wfile.write(six.ensure_binary("ok\n"))


http.server.HTTPServer(("0.0.0.0", 8031), Handler).serve_forever()
