"""A built process: starts its background work, serves HTTP (uvicorn) or Socket Mode, stops."""

from __future__ import annotations

import gc
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import uvicorn
from slack_bolt import App
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp

from bot.alerts.ingest import AlertService
from bot.app.roles import ProcessRole
from bot.app.scheduler import Scheduler
from bot.config.settings import Settings
from bot.domain.clock import Clock
from bot.home.refresh import HomeViewers
from bot.outbox.dispatcher import Dispatcher
from bot.people.directory import Directory
from bot.people.membership import Membership
from bot.service.timers.runner import TimerRunner
from bot.service.use_cases import TicketService
from bot.slack.gateway import SlackGateway
from bot.telemetry.metrics import Metrics

if TYPE_CHECKING:  # the Teams SDK is imported only by a process that runs Teams (~55 MB)
    from bot.app.teams_parts import TeamsParts


@dataclass
class Runtime:
    """The parts one process was built with (bot.app.runtime), and its lifecycle."""

    role: ProcessRole
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    gateway: SlackGateway | None  # None: Slack is off (an MSP on Teams only)
    directory: Directory
    membership: Membership | None
    members_refresh: str  # a job: a worker's from Slack/Teams into the database; a web's a reload
    scheduler: Scheduler
    clock: Clock
    service: TicketService
    alerts: AlertService
    dispatchers: tuple[Dispatcher, ...]
    bolt: App | None
    web: ASGIApp
    slack_pool: ThreadPoolExecutor
    metrics: Metrics
    teams: TeamsParts | None = None
    timers: TimerRunner | None = None  # fires due timers (the scheduler's "timers" job)
    home: HomeViewers | None = None  # App Home publishing (Slack)
    home_refresh: str | None = None  # a worker's job: republishes Homes after ticket changes
    _server: uvicorn.Server | None = None
    _server_thread: threading.Thread | None = None
    _socket_handler: Any = None

    def start_background(self) -> None:
        """Learn the technicians and keep them current; a worker also starts delivering the
        outbox."""
        for dispatcher in self.dispatchers:
            dispatcher.release_orphaned_claims()
        # Slack unreachable at start: serve with what the database holds; the scheduler retries.
        self.scheduler.run_now(self.members_refresh)
        self.scheduler.start()
        for dispatcher in self.dispatchers:
            dispatcher.start()

    def serve_http(self, sock: socket.socket | None = None, *, in_thread: bool = False) -> None:
        """Serve the HTTP endpoints with uvicorn (on `sock`, or settings.host:port)."""
        server = uvicorn.Server(uvicorn_config(self.web, self.settings.host, self.settings.port))
        self._server = server
        sockets = [sock] if sock is not None else None
        if in_thread:
            server.config.install_signal_handlers = False  # type: ignore[attr-defined]
            thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
            self._server_thread = thread
            thread.start()
        else:
            tune_gc()
            server.run(sockets=sockets)

    def wait_http_started(self, timeout: float = 10.0) -> None:
        """Block until uvicorn (started with in_thread=True) accepts connections."""
        server = self._server
        if server is None:
            raise RuntimeError("serve_http was not called")
        deadline = time.monotonic() + timeout
        tick = threading.Event()
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("HTTP server did not start")
            tick.wait(0.01)

    def start_socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        token = self.settings.slack_app_token
        if token is None or self.bolt is None:
            raise RuntimeError("Socket Mode needs SLACK_APP_TOKEN and a process that serves Slack")
        handler = SocketModeHandler(self.bolt, app_token=token.reveal(), concurrency=16)
        handler.connect()  # type: ignore[no-untyped-call]
        self._socket_handler = handler

    def stop(self) -> None:
        if self._socket_handler is not None:
            handler, self._socket_handler = self._socket_handler, None
            # slack_sdk's close() can wait forever: its session thread may mark the session it
            # was told to end as live again. Stopping never waits more than the others do.
            closing = threading.Thread(target=handler.close, name="socket-mode-close", daemon=True)
            closing.start()
            closing.join(10)
        if self._server is not None:
            self._server.should_exit = True
            if self._server_thread is not None:
                self._server_thread.join(10)
            self._server = None
        self.scheduler.stop()
        for dispatcher in self.dispatchers:
            dispatcher.stop()
        self.slack_pool.shutdown(wait=False)
        if self.teams is not None:
            self.teams.close()
        self.engine.dispose()


def uvicorn_config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    """How uvicorn serves the HTTP endpoints (the ack benchmark's floor server uses it too)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        log_config=None,  # uvicorn's lines go through the root logger: LOG_FORMAT applies
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        # Nothing here reads the client's address, and Slack reads neither header: each costs a
        # little on every ack.
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )


def tune_gc() -> None:
    """For a process that serves from here on (not for tests, which serve in a thread).

    Everything built so far (modules, mappers, settings) lives as long as the process: frozen,
    the cycle collector stops walking it, and a full collection pauses every request for ~10 ms
    instead of ~70 ms. Requests allocate thousands of objects each, almost all freed by reference
    counting; collecting cycles every 10,000 allocations instead of every 700 cuts the collector's
    time about sevenfold.
    """
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
