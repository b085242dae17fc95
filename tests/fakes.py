"""Fakes for the service-level tests: a static users.info, the SQL an engine sends, and the
people they know."""

from __future__ import annotations

import re

from sqlalchemy import Engine, event

from bot.people.identity import SlackUser

MANAGER = "UMAYA"
TECHNICIAN = "UTOM"
EMPLOYEE = "UERIN"


class StaticUsers:
    """users.info over a fixed table (the directory's UserLookup); no channel members."""

    def __init__(self, *users: SlackUser) -> None:
        self.users = {u.id: u for u in users}

    def user_info(self, user_id: str) -> SlackUser | None:
        return self.users.get(user_id)

    def channel_members(self, channel_id: str) -> list[str]:
        return []


class Statements:
    """The SQL an engine sends, recorded with a `before_cursor_execute` listener."""

    def __init__(self, engine: Engine) -> None:
        self.sent: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.sent.append(statement)

    def clear(self) -> None:
        self.sent.clear()

    def selects_from(self, table: str) -> list[str]:
        reads = re.compile(rf"^\s*SELECT\b.*\bFROM {table}\b", re.IGNORECASE | re.DOTALL)
        return [s for s in self.sent if reads.search(s)]
