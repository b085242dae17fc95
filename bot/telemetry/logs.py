"""Log output: the human format or one JSON object per line (LOG_FORMAT), and the ticket a line is
about (`about_ticket`, or `extra={"ticket": id}`), which every JSON line carries."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FORMATS = ("text", "json")

_ticket: ContextVar[int | None] = ContextVar("ticketbot_ticket", default=None)


@contextmanager
def about_ticket(ticket_id: int | None) -> Iterator[None]:
    """Every line logged inside the block, on this thread, is about `ticket_id`."""
    token = _ticket.set(ticket_id)
    try:
        yield
    finally:
        _ticket.reset(token)


def current_ticket() -> int | None:
    return _ticket.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and `ticket`
    and `exc_info` (the formatted traceback) when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ticket = getattr(record, "ticket", None)
        if ticket is None:
            ticket = _ticket.get()
        if ticket is not None:
            line["ticket"] = ticket
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: int, log_format: str = "text") -> None:
    """Set up the root logger once per process (the CLI calls it)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(HUMAN_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
