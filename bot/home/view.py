"""What an App Home shows, as plain values: built by bot/home/reader.py, drawn by
bot/slack/home.py (Slack) and bot/teams/home_card.py (Teams)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.messages.view import PersonRef, SlaClock

HomeRole = Literal["employee", "technician", "manager"]


@dataclass(frozen=True)
class HomeTicket:
    """One ticket row. `card` is the Slack card's (channel, ts) when it was posted; `confirm`
    says the reader may confirm it fixed. Text fields are raw (unescaped)."""

    id: int
    title: str
    priority: str
    state: str
    client_name: str | None
    assignee: PersonRef | None
    updated_at: datetime
    sla: tuple[SlaClock, ...] = ()
    card: tuple[str, str] | None = None
    confirm: bool = False


@dataclass(frozen=True)
class HomeSection:
    title: str
    tickets: tuple[HomeTicket, ...]
    empty: str  # what shows when there is nothing


@dataclass(frozen=True)
class TechLoad:
    """A technician's open tickets (assigned to them), and how many of those are critical."""

    person: PersonRef
    open: int
    critical: int


@dataclass(frozen=True)
class Figures:
    """The last `days` days: tickets opened and closed, mean times from opening to the first
    assignment and to the first resolution, and SLA breaches (response and resolution)."""

    days: int
    opened: int
    closed: int
    mean_assign: timedelta | None
    mean_resolve: timedelta | None
    breaches: int


@dataclass(frozen=True)
class HomeData:
    role: HomeRole
    user: str  # whose Home it is (a Slack user id, or a Teams key)
    now: datetime
    sections: tuple[HomeSection, ...]
    load: tuple[TechLoad, ...] = ()
    figures: Figures | None = None
    workspace_url: str | None = None  # https://team.slack.com/: where card permalinks point

    @property
    def ticket_count(self) -> int:
        return sum(len(s.tickets) for s in self.sections)
