"""Hears, on PostgreSQL, the outbox rows other processes commit (a trigger sends a line of
channel, kind and target per row, or only their channels, on `ticketbot_outbox` as the
transaction commits), so that a worker starts on them at once instead of at its next poll.
Polling stays as the safety net: a missed notification only waits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from bot.outbox.writer import Written

log = logging.getLogger(__name__)

CHANNEL = "ticketbot_outbox"
# Seconds between checks for stop, and before connecting again after losing the connection.
TICK = 0.25
RECONNECT = 5.0


class OutboxListener:
    """A connection of its own (never the pool's) that LISTENs, and a thread that calls
    `heard(rows, channels)` for each notification: the (channel, kind, target) of the rows
    written, or only their channels."""

    def __init__(
        self, engine: Engine, heard: Callable[[Written, set[str]], None], *, name: str
    ) -> None:
        self._engine = engine
        self._heard = heard
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while LISTEN is in effect

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception:  # the database went away: poll meanwhile, connect again later
                log.warning("outbox notifications lost; connecting again", exc_info=True)
            self.listening.clear()
            self._stop.wait(RECONNECT)

    def _listen(self) -> None:
        conn = self._connect()
        try:
            conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            while not self._stop.is_set():
                for note in conn.notifies(timeout=TICK):
                    self._heard(*_parse(note.payload))
                    if self._stop.is_set():
                        break
        finally:
            conn.close()

    def _connect(self) -> Any:
        dialect = self._engine.dialect
        args, kwargs = dialect.create_connect_args(self._engine.url)
        conn = dialect.loaded_dbapi.connect(*args, **kwargs)
        conn.autocommit = True
        return conn


def _parse(payload: str) -> tuple[Written, set[str]]:
    rows: set[tuple[str, str, str | None]] = set()
    channels: set[str] = set()
    for line in payload.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            rows.add((parts[0], parts[1], parts[2] if len(parts) > 2 and parts[2] else None))
        elif parts[0]:
            channels.add(parts[0])
    return rows, channels
