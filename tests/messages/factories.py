"""Ticket views for renderer tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.messages.view import PersonRef, TicketView, TimelineEntry

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
DANA = PersonRef("Dana Client", "U0REQ00001", "dana@northwind.example")
SAM = PersonRef("Sam Tech", "U0TECH0001", "sam@msp.example")
LEE = PersonRef("Lee Tech", "U0TECH0002", "lee@msp.example")
MIA = PersonRef("Mia Manager", "U0MGR00001", "mia@msp.example")
EMAIL_ONLY = PersonRef("Pat Contact", None, "pat@northwind.example")


def make_view(**changes: Any) -> TicketView:
    view = TicketView(
        id=12,
        title="Internet down at HQ",
        description="Nobody on floor 2 can reach the internet since 9:00.",
        priority="critical",
        state="new",
        submitter=DANA,
        created_at=NOW - timedelta(minutes=12),
        now=NOW,
        client_name="Northwind Dental",
        affected="team",
    )
    return replace(view, **changes)


def entry(minutes_ago: int, actor: str, kind: str, text: str = "") -> TimelineEntry:
    return TimelineEntry(at=NOW - timedelta(minutes=minutes_ago), actor=actor, kind=kind, text=text)
