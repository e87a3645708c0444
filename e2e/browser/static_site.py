"""A static web server for the test frontend, on an origin other than the API's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SITE_ROOT = Path(__file__).resolve().parent
PAGES = {"/frontend.html"}


class _PageHandler(SimpleHTTPRequestHandler):
    """Serves the test pages only, not the Python files next to them."""

    def do_GET(self) -> None:
        if urlsplit(self.path).path not in PAGES:
            self.send_error(404)
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_static(host: str, port: int) -> Iterator[str]:
    """Serve the test pages at http://host:port until the block ends; yields that origin."""
    server = ThreadingHTTPServer((host, port), partial(_PageHandler, directory=str(SITE_ROOT)))
    thread = threading.Thread(target=server.serve_forever, name=f"static-{port}", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
