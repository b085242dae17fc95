"""A stand-in's HTTP server on 127.0.0.1, served from a daemon thread until stopped, and how its
request handlers read a request."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Generic, TypeVar

S = TypeVar("S", bound=socketserver.BaseServer)


class Serving(Generic[S]):
    """At most one server at a time, served from a daemon thread named `name`."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.server: S | None = None
        self._thread: threading.Thread | None = None

    def start(self, make: Callable[[], S]) -> S:
        """Serve the server `make` builds, unless one is served already; returns it."""
        if self.server is None:
            self.server = make()
            self._thread = threading.Thread(
                target=self.server.serve_forever,
                kwargs={"poll_interval": 0.05},  # keeps stop() fast
                name=self._name,
                daemon=True,
            )
            self._thread.start()
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


def read_request(handler: BaseHTTPRequestHandler) -> tuple[dict[str, str], bytes]:
    """The request's headers (names in lower case) and its whole body."""
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length) if length else b""
    return {k.lower(): v for k, v in handler.headers.items()}, raw
