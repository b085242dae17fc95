"""A local Power Automate Workflows webhook for tests and `ticketbot demo --teams`.

`POST /workflows/<flow id>/triggers/manual/paths/invoke?…&sig=…` answers 202 with an empty
body, as Power Automate does; a wrong or missing sig gets 401, an unknown flow 404, a body that is
not a JSON object 400. The next answers can be made 429 (with Retry-After), 5xx or none at all.
Nothing in the bot's runtime path may import this module.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs

from bot.sandbox.serving import Serving, read_request
from bot.sandbox.waiting import wait_for_change

T = TypeVar("T")

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
DROP = 0  # as an injected status: close the connection without answering


@dataclass(frozen=True)
class WorkflowPost:
    """One accepted POST: which flow, and the JSON body exactly as received."""

    flow_id: str
    body: dict[str, Any]

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards in the envelope's attachments (what the flow would post)."""
        return [
            a["content"]
            for a in self.body.get("attachments") or []
            if isinstance(a, dict) and a.get("contentType") == ADAPTIVE_CARD
        ]


@dataclass(frozen=True)
class Attempt:
    """Any request the listener answered, accepted or not (`status` is what it answered)."""

    flow_id: str
    status: int
    raw: bytes


@dataclass
class _Fault:
    status: int
    retry_after: str | None
    body: bytes | None


@dataclass
class _State:
    cond: threading.Condition = field(default_factory=threading.Condition)
    generation: int = 0
    flows: dict[str, str] = field(default_factory=dict)  # flow id -> sig
    posts: list[WorkflowPost] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)


class WorkflowsListener:
    """Workflows webhooks on 127.0.0.1 (a free port), one URL per flow from `add_flow()`."""

    def __init__(self) -> None:
        self._state = _State()
        self._http: Serving[_Server] = Serving("workflows-listener")

    def start(self) -> WorkflowsListener:
        self._http.start(lambda: _Server(self._state))
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> WorkflowsListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._http.server is None:
            raise RuntimeError("the Workflows listener is not running; call start()")
        return f"http://127.0.0.1:{self._http.server.server_address[1]}"

    def add_flow(self, flow_id: str | None = None) -> str:
        """Create a flow and return its trigger URL, shaped like Power Automate's (with sig=)."""
        flow_id = flow_id or secrets.token_hex(16)
        sig = secrets.token_urlsafe(32)
        with self._state.cond:
            self._state.flows[flow_id] = sig
        return (
            f"{self.base_url}/workflows/{flow_id}/triggers/manual/paths/invoke"
            f"?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={sig}"
        )

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 429,
        retry_after: float | str | None = 1,
        body: str | None = None,
    ) -> None:
        """Answer the next `n` POSTs (to any flow) with `status` (DROP: no answer at all);
        Retry-After is sent when given (seconds, or a string such as an HTTP date); `body`
        replaces the JSON error body."""
        header = retry_after if isinstance(retry_after, str | None) else f"{retry_after:g}"
        raw = None if body is None else body.encode()
        with self._state.cond:
            self._state.faults.extend(_Fault(status, header, raw) for _ in range(n))

    @property
    def posts(self) -> list[WorkflowPost]:
        with self._state.cond:
            return list(self._state.posts)

    @property
    def attempts(self) -> list[Attempt]:
        with self._state.cond:
            return list(self._state.attempts)

    def posts_to(self, flow_id: str) -> list[WorkflowPost]:
        return [p for p in self.posts if p.flow_id == flow_id]

    def clear(self) -> None:
        with self._state.cond:
            self._state.posts.clear()
            self._state.attempts.clear()

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until `predicate()` is truthy (re-run, unlocked, as requests arrive); return it."""

        def describe() -> str:
            what = getattr(predicate, "__qualname__", repr(predicate))
            seen = [(a.flow_id, a.status) for a in self._state.attempts]
            return f"{what}; requests so far: {seen}"

        state = self._state
        return wait_for_change(state.cond, lambda: state.generation, predicate, timeout, describe)

    def wait_for_posts(self, count: int = 1, timeout: float = 5.0) -> list[WorkflowPost]:
        """Wait until at least `count` envelopes have been accepted; return all of them."""
        self.wait_for(lambda: len(self.posts) >= count, timeout)
        return self.posts


def _answer(state: _State, path: str, query: str, raw: bytes) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers for one request, recorded under the lock."""
    flow_id = _flow_id(path)
    status, body, headers = 202, b"", {}
    with state.cond:
        sig = state.flows.get(flow_id) if flow_id else None
        given = parse_qs(query).get("sig", [""])[-1]
        if sig is None:
            status, body = 404, _error("WorkflowNotFound", "The workflow could not be found.")
        elif not secrets.compare_digest(given, sig):
            status, body = 401, _error("DirectApiAuthorizationRequired", "Invalid signature.")
        elif state.faults:
            fault = state.faults.pop(0)
            status = fault.status
            body = fault.body if fault.body is not None else _error("Injected", f"{status}")
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
        else:
            envelope = _json_object(raw)
            if envelope is None:
                status, body = 400, _error("InvalidRequestContent", "The body is not JSON.")
            else:
                state.posts.append(WorkflowPost(flow_id or "", envelope))
        state.attempts.append(Attempt(flow_id or "", status, raw))
        state.generation += 1
        state.cond.notify_all()
    if body:
        headers["Content-Type"] = "application/json; charset=utf-8"
    return status, body, headers


def _flow_id(path: str) -> str | None:
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "workflows" and parts[1]:
        return parts[1]
    return None


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class _Handler(BaseHTTPRequestHandler):
    server_version = "WorkflowsListener/1.0"

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        _, raw = read_request(self)
        path, _, query = self.path.partition("?")
        status, body, headers = _answer(cast(_Server, self.server).state, path, query, raw)
        if status == DROP:
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return
