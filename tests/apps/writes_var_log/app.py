"""Opens its log under /var/log when it starts: root's folder, so the non-root user DF302 switches to cannot
write it. dfix cannot see that path is written; a build and a run can."""

import http.server

log = open("/var/log/app.log", "a")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.write(self.path + "\n")
        self.send_response(200 if self.path in ("/", "/health") else 404)
        self.end_headers()


http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
