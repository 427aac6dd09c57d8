"""What the local AWS and the benchmark's replay server share: an HTTP server on 127.0.0.1,
served from a daemon thread, with one way to stop it and to name its URL. Stdlib only."""

from __future__ import annotations

import threading
from typing import Any

LOOPBACK = "127.0.0.1"


class BackgroundServer:
    _server: Any = None  # a socketserver server: serve_forever, shutdown, server_close, server_port
    _thread: threading.Thread | None = None

    def _serve_in_background(self, server: Any, name: str) -> None:
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True, name=name)
        self._thread.start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"
