"""SMTP sink for tests and the demo: aiosmtpd on 127.0.0.1, keeping every message it accepts.

Can be paused (down, same port) and told to fail DATA with a 4xx; imports nothing from the bot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, TypeVar

from aiosmtpd.controller import Controller

from bot.sandbox.process import free_port
from bot.sandbox.waiting import wait_for_change

T = TypeVar("T")


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: SMTP envelope plus the parsed `EmailMessage` (policy=default)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes

    def __getitem__(self, header: str) -> Any:
        return self.message[header]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        """The text/plain body ("" if there is none)."""
        body = self.message.get_body(preferencelist=("plain",))
        return str(body.get_content()) if body is not None else ""


class _Collector:
    def __init__(self, sink: MailSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        failure = self._sink._take_failure()
        if failure is not None:
            return f"{failure} 4.3.0 Temporary failure (injected by MailSink)"
        raw = bytes(envelope.content)
        # Parsed with LF line ends so bodies read as Python text; `raw` keeps the wire's CRLF.
        message = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        self._sink._add(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), message, raw))
        return "250 Message accepted for delivery"


class MailSink:
    """In-process SMTP server; `url` is `smtp://127.0.0.1:PORT`."""

    def __init__(self, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        # aiosmtpd 1.4.6 cannot bind port 0 (its readiness probe connects to the configured port).
        self.port = port or free_port()
        self._cond = threading.Condition()
        self._generation = 0  # bumped per accepted message; wait_for watches it
        self._messages: list[ReceivedMail] = []
        self._failures: list[int] = []
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> MailSink:
        if self._controller is None:
            controller = Controller(_Collector(self), hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def pause(self) -> None:
        """Take the server down (connections are refused); port and collected mail are kept."""
        self.stop()

    def resume(self) -> None:
        """Bring the server back on the same port."""
        self.start()

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, n: int = 1, code: int = 451) -> None:
        """Answer the next `n` DATA commands with `code` (a temporary failure by default)."""
        with self._cond:
            self._failures.extend([code] * n)

    def _take_failure(self) -> int | None:
        with self._cond:
            return self._failures.pop(0) if self._failures else None

    def _add(self, mail: ReceivedMail) -> None:
        with self._cond:
            self._messages.append(mail)
            self._generation += 1
            self._cond.notify_all()

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._cond:
            return list(self._messages)

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until `predicate()` is truthy (re-run, unlocked, as mail arrives); return it."""

        def describe() -> str:
            subjects = [m.subject for m in self._messages]
            what = getattr(predicate, "__qualname__", repr(predicate))
            return f"{what}; mail so far: {subjects}"

        return wait_for_change(self._cond, lambda: self._generation, predicate, timeout, describe)

    def wait_for_messages(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMail]:
        """Wait until at least `count` messages have arrived; return all of them."""
        self.wait_for(lambda: len(self.messages) >= count, timeout)
        return self.messages
