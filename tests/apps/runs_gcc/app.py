"""Compiles a C helper when it starts, as apps that build plugins or cffi modules at run time do: it needs
gcc in the final image, so a slim base breaks it, which only running it shows."""

import http.server
import pathlib
import subprocess
import tempfile

source = pathlib.Path(tempfile.mkdtemp()) / "helper.c"
source.write_text("int main(void) { return 0; }\n")
subprocess.run(["gcc", str(source), "-o", str(source.with_suffix(""))], check=True)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path in ("/", "/health") else 404)
        self.end_headers()
        self.wfile.write(b"ok\n")


http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
