"""HTTP plumbing for the Slack emulator: request parsing, API errors, replies, signing, server."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs

from bot.sandbox.serving import read_request
from bot.sandbox.slack.records import JSON


class ApiError(Exception):
    """A Web API failure: answered as `{"ok": false, "error": error, **extra}` with `status`."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = dict(headers or {})
        self.extra = extra


@dataclass
class Reply:
    """An HTTP answer; `drop` closes the connection without one (a connection reset)."""

    status: int
    body: bytes
    headers: dict[str, str]
    drop: bool = False

    @classmethod
    def of_json(cls, status: int, data: JSON, headers: Mapping[str, str] | None = None) -> Reply:
        merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, json.dumps(data).encode(), merged)


_JSON_FORM_FIELDS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "view": "invalid_arguments",
    "metadata": "invalid_metadata_format",
}


def parse_params(content_type: str, raw: bytes, query: str) -> JSON:
    """Web API arguments from the query string and a JSON, multipart or urlencoded body."""
    params: JSON = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    ctype = content_type.split(";", 1)[0].strip().lower()
    if ctype == "application/json":
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise ApiError("invalid_json") from exc
        if not isinstance(body, dict):
            raise ApiError("invalid_json")
        params.update(body)
        return params
    if ctype == "multipart/form-data":
        header = f"Content-Type: {content_type}\r\n\r\n".encode()
        parsed = email.parser.BytesParser(policy=email.policy.default).parsebytes(header + raw)
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                params[name] = (
                    payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
                )
    else:
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        params.update({k: v[-1] for k, v in form.items()})
    for key, error in _JSON_FORM_FIELDS.items():
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            try:
                params[key] = json.loads(value)
            except ValueError as exc:
                raise ApiError(error) from exc
    return params


def flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def json_or_none(body: str) -> JSON | None:
    if not body.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def sign(signing_secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 request signature over `v0:{timestamp}:{body}`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


ApiRoute = Callable[[str, Mapping[str, str], bytes, str], Reply]  # (method, headers, body, query)
ResponseUrlRoute = Callable[[str, bytes], Reply]  # (key, body)


class LoopbackServer(ThreadingHTTPServer):
    """127.0.0.1 on a free port: `/api/<method>` and `/response/<key>` go to the given routes."""

    daemon_threads = True

    def __init__(self, api: ApiRoute, response_url: ResponseUrlRoute) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api
        self.response_url = response_url


class _Handler(BaseHTTPRequestHandler):
    server_version = "SlackEmulator/1.0"

    def do_POST(self) -> None:
        server = cast(LoopbackServer, self.server)
        headers, raw = read_request(self)
        path, _, query = self.path.partition("?")
        if path.startswith("/api/"):
            reply = server.api(path[len("/api/") :], headers, raw, query)
        elif path.startswith("/response/"):
            reply = server.response_url(path[len("/response/") :], raw)
        else:
            reply = Reply(404, b"not found\n", {"Content-Type": "text/plain"})
        if reply.drop:
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return
