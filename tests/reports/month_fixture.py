"""A hand-computed month: November 2026 in Europe/Berlin (UTC+1), written as direct rows.

Acme (hours Mon-Fri 09:00-17:00 Berlin, untrusted-looking name), Globex (no hours: around the
clock) and one monitoring ticket of no known client. The expected figures below were worked out
by hand from these rows; the comments show the arithmetic."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from storage.models import Client, Ticket, TicketEvent

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
MONTH = "2026-11"
ACME = 'Acme <b>Corp</b> & "Sons" <!channel>'
GLOBEX = "Globex"
ACME_CONTACT = "carla@acme.example"
GLOBEX_CONTACT = "gil@globex.example"


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """Berlin local time in 2026, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


@dataclass
class Row:
    client: str | None
    priority: str
    source: str
    state: str
    created: datetime
    responded: datetime | None = None
    response_due: datetime | None = None
    response_breached: datetime | None = None
    resolve_due: datetime | None = None
    resolve_breached: datetime | None = None
    events: list[tuple[str, datetime]] = field(default_factory=list)


ROWS = [
    # Acme T1, medium, Fri 6 Nov 16:00: ack 30m; assign Fri 1h + Mon 30m = 90m; resolve Fri 1h +
    # Mon 09:00-11:30 2h30 = 210m; SLAs met; one onsite visit.
    Row(
        ACME, "medium", "slack", "closed", at(6, 16), responded=at(6, 16, 30),
        response_due=at(6, 17), resolve_due=at(9, 15),
        events=[("assigned", at(9, 9, 30)), ("onsite", at(9, 10)), ("resolved", at(9, 11, 30)),
                ("closed", at(9, 12))],
    ),
    # Acme T2, high, Tue 10 Nov 10:00: ack 15m, assign 20m; resolved 12:00 (2h), reopened Wed
    # 09:00, resolved 10:00 (1h): resolve 180m (the wait for confirmation does not count).
    Row(
        ACME, "high", "teams", "closed", at(10, 10), responded=at(10, 10, 15),
        response_due=at(10, 11), resolve_due=at(11, 14),
        events=[("assigned", at(10, 10, 20)), ("resolved", at(10, 12)),
                ("reopened", at(11, 9)), ("resolved", at(11, 10)), ("closed", at(11, 11))],
    ),
    # Acme T3, critical from monitoring, Sat 14 Nov 03:00 (24/7): ack 20m, assign 20m, resolve
    # 120m; response missed (breach recorded at 03:15), resolution met; one onsite visit.
    Row(
        ACME, "critical", "monitoring", "closed", at(14, 3), responded=at(14, 3, 20),
        response_due=at(14, 3, 15), response_breached=at(14, 3, 15), resolve_due=at(14, 7),
        events=[("assigned", at(14, 3, 20)), ("onsite", at(14, 4)), ("resolved", at(14, 5)),
                ("closed", at(14, 6))],
    ),
    # Acme T4, low, Thu 26 Nov: untouched, no clock decided.
    Row(ACME, "low", "slack", "new", at(26, 16, 30), response_due=at(27, 16, 30)),
    # Acme T6, medium, Sun 1 Nov 00:30 Berlin (31 Oct 23:30 UTC): in November; cancelled.
    Row(ACME, "medium", "slack", "cancelled", at(1, 0, 30), response_due=at(2, 13)),
    # Acme, Tue 1 Dec 00:30 Berlin (30 Nov 23:30 UTC): December, not in the report.
    Row(ACME, "medium", "slack", "new", at(1, 0, 30, month=12)),
    # Acme, 31 Oct 23:30 Berlin: October, not in the report.
    Row(ACME, "high", "slack", "new", at(31, 23, 30, month=10)),
    # Globex G1, high, Sat 21 Nov 11:00 Berlin, around the clock: ack 120m, assign 120m,
    # resolved Mon 23 Nov 11:00: 2880m; response met, resolution missed (breach recorded).
    Row(
        GLOBEX, "high", "slack", "awaiting_confirmation", at(21, 11), responded=at(21, 13),
        response_due=at(21, 14), resolve_due=at(22, 11), resolve_breached=at(22, 11),
        events=[("assigned", at(21, 13)), ("resolved", at(23, 11))],
    ),
    # No client: a monitoring ticket, medium, untouched.
    Row(None, "medium", "monitoring", "new", at(15, 9)),
]  # fmt: skip


def write_month(session: Session) -> dict[str, int]:
    """The clients and tickets above; returns the clients' ids by name."""
    now = at(1, 12, month=12)
    acme = Client(
        name=ACME, contact_email=ACME_CONTACT, timezone=TZ, hours="Mon-Fri 09:00-17:00",
        created_at=now,
    )  # fmt: skip
    globex = Client(name=GLOBEX, contact_email=GLOBEX_CONTACT, created_at=now)
    session.add_all([acme, globex])
    session.flush()
    ids = {ACME: acme.id, GLOBEX: globex.id}
    for n, row in enumerate(ROWS, start=1):
        ticket = Ticket(
            title=f"Fixture ticket {n}",
            description="",
            priority=row.priority,
            state=row.state,
            source=row.source,
            client_id=ids[row.client] if row.client else None,
            client_unknown=row.client is None,
            created_at=row.created,
            updated_at=row.created,
            responded_at=row.responded,
            last_tech_update_at=row.responded,
            response_due_at=row.response_due,
            response_breached_at=row.response_breached,
            resolve_due_at=row.resolve_due,
            resolve_breached_at=row.resolve_breached,
            closed_at=next((t for k, t in row.events if k == "closed"), None),
        )
        session.add(ticket)
        session.flush()
        events = [("created", row.created), *row.events]
        for kind, when in events:
            session.add(
                TicketEvent(
                    ticket_id=ticket.id, at=when, actor_label="fixture", kind=kind,
                    surface="slack", text=kind, data={},
                )
            )  # fmt: skip
    return ids


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


# Expected figures, by section: (opened, cancelled, by priority, by source).
EXPECTED_COUNTS = {
    ACME: (5, 1, (1, 2, 1, 1), (4, 1)),
    GLOBEX: (1, 0, (0, 0, 1, 0), (1, 0)),
    "No client": (1, 0, (0, 1, 0, 0), (0, 1)),
    "Overall": (7, 1, (1, 3, 2, 1), (5, 2)),
}
# (count, mean, p90) of acknowledge, assign, resolve.
EXPECTED_TIMES = {
    ACME: ((3, m(65 / 3), m(30)), (3, m(130 / 3), m(90)), (3, m(170), m(210))),
    GLOBEX: ((1, m(120), m(120)), (1, m(120), m(120)), (1, m(2880), m(2880))),
    "No client": ((0, None, None), (0, None, None), (0, None, None)),
    # ack 30,15,20,120; assign 90,20,20,120; resolve 210,180,120,2880.
    "Overall": ((4, m(46.25), m(120)), (4, m(62.5), m(120)), (4, m(847.5), m(2880))),
}
# (hits, total) of response SLA, resolution SLA, reopened; then onsite visits.
EXPECTED_RATES = {
    ACME: ((2, 3), (3, 3), (1, 3), 2),
    GLOBEX: ((1, 1), (0, 1), (0, 1), 0),
    "No client": ((0, 0), (0, 0), (0, 0), 0),
    "Overall": ((3, 4), (3, 4), (1, 4), 2),
}
