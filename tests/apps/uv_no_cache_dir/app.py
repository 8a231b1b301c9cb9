"""A stdlib server whose one dependency uv installs: what it answers shows the dependency is there."""

import http.server

import six


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path in ("/", "/health") else 404)
        self.end_headers()
        self.wfile.write(f"six {six.__version__}\n".encode())


http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
