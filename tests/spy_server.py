"""A real HTTP server on 127.0.0.1 that counts every request: proof that a PDF fetched nothing."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any


class Hits:
    """Every connection the spy server sees."""

    def __init__(self) -> None:
        self.count = 0
        self.paths: list[str] = []
        self.lock = threading.Lock()


@contextlib.contextmanager
def spy_http_server(body: bytes = b"", content_type: str = "text/plain") -> Iterator[tuple[int, Hits]]:
    """Serve body to anyone who asks, counting connections; yield (port, hits)."""
    hits = Hits()

    class Handler(BaseHTTPRequestHandler):
        def handle(self) -> None:
            with hits.lock:
                hits.count += 1
            super().handle()

        def do_GET(self) -> None:  # noqa: N802 - name fixed by http.server
            with hits.lock:
                hits.paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            """Stay quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
