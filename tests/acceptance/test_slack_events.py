"""POST /slack/events, the bare ASGI endpoint, over real HTTP: body cap, Socket Mode, headers."""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.sandbox.slack.wire import sign
from bot.sandbox.stack import Stack
from bot.slack.http import MAX_SLACK_BODY
from storage.models import Ticket
from tests.acceptance.helpers import command_body

FORM = "application/x-www-form-urlencoded"
TOO_LARGE = {"error": "request body too large"}


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str | None
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def _command_of_size(size: int) -> bytes:
    """A /ticket command body of exactly `size` bytes (the title padded with letters)."""
    bare = command_body("")
    body = command_body("a" * (size - len(bare)))
    assert len(body) == size
    return body


def _signed(stack: Stack, body: bytes, *, signatures: Sequence[str] = ()) -> list[tuple[str, str]]:
    """Content-Type, timestamp and signature headers: the valid signature, else `signatures`
    ("valid" stands for it) as repeated X-Slack-Signature headers in that order."""
    timestamp = str(int(time.time()))
    valid = sign(stack.signing_secret, timestamp, body)
    return [
        ("Content-Type", FORM),
        ("X-Slack-Request-Timestamp", timestamp),
        *(("X-Slack-Signature", valid if s == "valid" else s) for s in signatures or ["valid"]),
    ]


def _post(
    stack: Stack,
    headers: Sequence[tuple[str, str]],
    *,
    body: bytes = b"",
    chunks: Iterable[bytes] | None = None,
    timeout: float = 15,
) -> Answer:
    """POST with these headers, repeats kept: `body` with its Content-Length unless one is given,
    or `chunks` as a chunked body (no Content-Length)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=timeout)
    try:
        conn.putrequest("POST", "/slack/events", skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if chunks is not None:
            conn.putheader("Transfer-Encoding", "chunked")
        elif all(name.lower() != "content-length" for name, _ in headers):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        # The bot may answer (413) before reading the whole body: still read its answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if chunks is None:
                conn.send(body)
            else:
                for chunk in chunks:
                    conn.send(b"%X\r\n%s\r\n" % (len(chunk), chunk))
                conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        return Answer(response.status, response.getheader("Content-Type"), response.read())
    finally:
        conn.close()


def _pieces(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def _tickets(stack: Stack) -> list[str]:
    with stack.rt.sessions() as s:
        return list(s.scalars(select(Ticket.title).order_by(Ticket.id)))


# ---- the body cap --------------------------------------------------------------------------
def test_declared_length_over_the_cap_is_413_json_before_the_body_is_sent(stack: Stack) -> None:
    headers = [("Content-Type", FORM), ("Content-Length", str(MAX_SLACK_BODY + 1))]
    answer = _post(stack, headers, timeout=5)  # headers only: the bot must not wait for the body
    assert (answer.status, answer.content_type) == (413, "application/json")
    assert answer.json() == TOO_LARGE
    assert _tickets(stack) == []


def test_declared_length_at_the_cap_is_read(stack: Stack) -> None:
    body = _command_of_size(MAX_SLACK_BODY)
    answer = _post(stack, _signed(stack, body), body=body)
    assert answer.status == 200, answer.body[:200]
    assert len(_tickets(stack)) == 1  # read whole: the signature matched, the ticket is open


def test_chunked_body_over_the_cap_is_413_json(stack: Stack) -> None:
    body = _command_of_size(MAX_SLACK_BODY + 1)
    answer = _post(stack, _signed(stack, body), chunks=_pieces(body, 64 * 1024))
    assert (answer.status, answer.content_type) == (413, "application/json")
    assert answer.json() == TOO_LARGE
    assert _tickets(stack) == []


def test_chunked_body_at_the_cap_is_read(stack: Stack) -> None:
    body = _command_of_size(MAX_SLACK_BODY)
    answer = _post(stack, _signed(stack, body), chunks=_pieces(body, 64 * 1024))
    assert answer.status == 200, answer.body[:200]
    assert len(_tickets(stack)) == 1


def test_chunked_body_is_put_together_before_the_signature_check(stack: Stack) -> None:
    body = command_body("printer on fire")
    answer = _post(stack, _signed(stack, body), chunks=_pieces(body, 7))
    assert answer.status == 200, answer.body
    assert _tickets(stack) == ["printer on fire"]


# ---- Socket Mode ---------------------------------------------------------------------------
def test_socket_mode_deployment_answers_404_json(tmp_path: Path) -> None:
    # tests/acceptance/test_socket_mode.py checks the 404; this checks it is JSON and ignored.
    with Stack(database_url=f"sqlite:///{tmp_path / 'socket.db'}", socket_mode=True) as stack:
        body = command_body("over http by mistake")
        answer = _post(stack, _signed(stack, body), body=body)
        assert (answer.status, answer.content_type) == (404, "application/json")
        assert answer.json() == {"error": "this deployment runs Slack in Socket Mode"}
        assert _tickets(stack) == []


# ---- repeated header names -----------------------------------------------------------------
def test_repeated_headers_leave_the_signature_check_working(stack: Stack) -> None:
    body = command_body("scanner offline")
    proxied = [
        ("X-Forwarded-For", "10.0.0.1"),
        ("X-Forwarded-For", "10.0.0.2"),
        ("Accept", "application/json"),
        ("Accept", "*/*"),
        *_signed(stack, body),
        ("Via", "1.1 proxy-a"),
        ("Via", "1.1 proxy-b"),
    ]
    assert _post(stack, proxied, body=body).status == 200
    assert _tickets(stack) == ["scanner offline"]


FORGED = "v0=" + "0" * 64


@pytest.mark.parametrize(
    ("signatures", "status"),
    [
        pytest.param((FORGED, "valid"), 200, id="valid-last"),
        pytest.param(("valid", FORGED), 401, id="forged-last"),
    ],
)
def test_repeated_signature_header_the_last_one_counts(
    stack: Stack, signatures: tuple[str, str], status: int
) -> None:
    # As in Bolt's own adapters: the last of repeated headers is the one read.
    body = command_body("keyboard sticky")
    answer = _post(stack, _signed(stack, body, signatures=signatures), body=body)
    assert answer.status == status
    assert _tickets(stack) == (["keyboard sticky"] if status == 200 else [])


def test_a_body_that_is_not_utf8_is_400_json_and_stores_nothing(stack: Stack) -> None:
    body = command_body("printer") + b"%20\xff\xfe"
    answer = stack.emu.send_raw(body, "application/x-www-form-urlencoded")
    assert answer.status == 400
    assert json.loads(answer.body) == {"error": "request body is not UTF-8"}
    with stack.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
