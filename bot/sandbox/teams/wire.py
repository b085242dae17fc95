"""The Bot Connector stand-in's HTTPS: a threaded server on 127.0.0.1 (TLS per connection), the
JSON replies it writes, and Microsoft's error body."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from bot.sandbox.serving import read_request


class Reply:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}


def error(status: int, code: str, message: str, **headers: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, headers)


def read_json(raw: bytes) -> Any:
    """The body as JSON, or None when it is empty or not JSON."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


# (method, path, lower-cased headers, body) → the reply
Answer = Callable[[str, str, dict[str, str], bytes], Reply]


class HttpsServer(ThreadingHTTPServer):
    """HTTPS on 127.0.0.1, a free port; TLS is set up per connection in its own thread."""

    daemon_threads = True

    def __init__(self, answer: Answer, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        _Handler(tls, client_address, self)


class _Handler(BaseHTTPRequestHandler):
    server_version = "BotConnectorStandIn/1.0"
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        server = cast(HttpsServer, self.server)
        headers, raw = read_request(self)
        reply = server.answer(self.command, self.path, headers, raw)
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if reply.body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return
