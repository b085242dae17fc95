"""Loopback Socket Mode endpoint for the Slack emulator: tickets, `hello`, envelopes out, acks back.

A `websockets` asyncio server on 127.0.0.1 in its own daemon thread; imports nothing from the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

JSON = dict[str, Any]


class SocketModeServer:
    """The WebSocket half of Socket Mode; `apps.connections.open` (Web API side) calls `issue_url`.

    Each envelope goes to one connection (the newest), as Slack does with several open sockets.
    """

    def __init__(self, *, app_id: str, on_change: Callable[[], None] | None = None) -> None:
        self._app_id = app_id
        self._on_change = on_change  # called (outside our lock) after connects, disconnects, acks
        self._cond = threading.Condition()
        self._tickets: set[str] = set()
        self._connections: list[ServerConnection] = []
        self._acks: dict[str, JSON] = {}
        self._frames: list[JSON] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._port = 0
        self.connections_opened = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="slack-emulator-socket", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("Socket Mode server did not start in time")
        if self._error is not None:
            raise RuntimeError("Socket Mode server failed to start") from self._error

    def stop(self, timeout: float = 5.0) -> None:
        loop, stop_event, thread = self._loop, self._stop_event, self._thread
        if loop is None or stop_event is None or thread is None:
            return
        loop.call_soon_threadsafe(stop_event.set)
        thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def port(self) -> int:
        return self._port

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced by start(); the thread must not die silently
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        async with serve(
            self._serve_connection,
            "127.0.0.1",
            0,
            process_request=self._check_ticket,
            compression=None,
            ping_interval=0.1,  # traffic ends slack_sdk's blocking 3 s read quickly on close()
            ping_timeout=None,
            close_timeout=0.2,
        ) as server:
            self._port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop_event.wait()

    # -- connection handling -----------------------------------------------------------------

    def issue_url(self) -> str:
        """A fresh single-use `ws://` URL, as returned by `apps.connections.open`."""
        ticket = uuid.uuid4().hex
        with self._cond:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self._port}/link/?ticket={ticket}&app_id={self._app_id}"

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        ticket = parse_qs(urlsplit(request.path).query).get("ticket", [""])[0]
        with self._cond:
            if ticket in self._tickets:
                self._tickets.discard(ticket)
                return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")

    async def _serve_connection(self, ws: ServerConnection) -> None:
        hello = {
            "type": "hello",
            "num_connections": len(self._connections) + 1,
            "debug_info": {
                "host": "applink-emulator-1",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self._app_id},
        }
        await ws.send(json.dumps(hello))
        with self._cond:
            self._connections.append(ws)
            self.connections_opened += 1
            self._cond.notify_all()
        self._changed()
        try:
            async for frame in ws:
                try:
                    data = json.loads(frame)
                except ValueError:
                    continue
                if not isinstance(data, dict):
                    continue
                with self._cond:
                    self._frames.append(data)
                    if isinstance(data.get("envelope_id"), str):
                        self._acks[data["envelope_id"]] = data
                    self._cond.notify_all()
                self._changed()
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                if ws in self._connections:
                    self._connections.remove(ws)
                self._cond.notify_all()
            self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    # -- used by the emulator ----------------------------------------------------------------

    @property
    def connection_count(self) -> int:
        with self._cond:
            return len(self._connections)

    def wait_connected(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._connections), timeout)

    def send(self, envelope: JSON, timeout: float) -> JSON | None:
        """Send one envelope; wait for the ack with the same `envelope_id` (None if none came)."""
        envelope_id = envelope["envelope_id"]
        deadline = time.monotonic() + timeout
        with self._cond:
            if not self._connections:
                raise AssertionError(
                    "no Socket Mode client is connected to the emulator "
                    "(start the SocketModeHandler and call emu.wait_socket_connected())"
                )
            ws = self._connections[-1]
        assert self._loop is not None
        sent = asyncio.run_coroutine_threadsafe(ws.send(json.dumps(envelope)), self._loop)
        try:
            sent.result(timeout)
        except (ConnectionClosed, TimeoutError):
            return None
        with self._cond:
            self._cond.wait_for(
                lambda: envelope_id in self._acks, max(0.0, deadline - time.monotonic())
            )
            return self._acks.pop(envelope_id, None)

    def disconnect(self, reason: str = "refresh_requested") -> int:
        """Send a `disconnect` frame to every connection; returns how many got it."""
        frame = json.dumps(
            {
                "type": "disconnect",
                "reason": reason,
                "num_connections": 1,
                "debug_info": {"host": "applink-emulator-1"},
                "connection_info": {"app_id": self._app_id},
            }
        )
        with self._cond:
            targets = list(self._connections)
        if self._loop is None:
            return 0
        for ws in targets:
            future = asyncio.run_coroutine_threadsafe(ws.send(frame), self._loop)
            with contextlib.suppress(ConnectionClosed):
                future.result(5)
        return len(targets)
