"""Who has an App Home, and when it is republished: when they open it or turn a page, and when
tickets they see change (the worker's periodic refresh). Writes outbox rows only, one pending row
per person at most; the delivery route renders the Home fresh when it sends."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import Clock
from bot.outbox.writer import OutboxWriter
from bot.people.directory import Directory
from storage.models import HomeViewer, JobCursor, OutboxRow, Person, Ticket, TicketHelper

KIND = "home"  # outbox kind on the slack channel; payload {"user": slack id}
CURSOR = "home-refresh"
# Tickets changed this long before the last run are looked at again: a transaction that read the
# clock before the run and committed after it is not missed. One the last run saw at the same
# version is not counted twice.
OVERLAP = timedelta(seconds=5)
MAX_PAGE = 1000

# A changed ticket: id, version, priority, submitter and assignee (person ids).
_Changed = tuple[int, int, str, int | None, int | None]


def stream(user: str) -> str:
    return f"home:{user}"


class HomeViewers:
    """App Home publishing requests, as outbox rows (never a Slack call of its own)."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        directory: Directory,
        writer: OutboxWriter,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._directory = directory
        self._writer = writer
        self._clock = clock

    def opened(self, user: str) -> None:
        """`user` opened the Home tab: remember them and publish it (at the page they left)."""
        with self._sessions.begin() as s:
            if s.get(HomeViewer, user) is None:
                s.add(HomeViewer(slack_user_id=user, page=0, opened_at=self._clock.now()))
            self._enqueue(s, user)

    def show_page(self, user: str, page: int) -> None:
        """`user` clicked Previous or Next: publish that page."""
        page = min(max(page, 0), MAX_PAGE)
        with self._sessions.begin() as s:
            viewer = s.get(HomeViewer, user)
            if viewer is None:
                s.add(HomeViewer(slack_user_id=user, page=page, opened_at=self._clock.now()))
            else:
                viewer.page = page
            self._enqueue(s, user)

    def refresh(self) -> None:
        """The periodic job: republish the Homes that tickets changed since the last run are
        shown in."""
        now = self._clock.now()
        with self._sessions.begin() as s:
            cursor = s.scalar(select(JobCursor).where(JobCursor.name == CURSOR).with_for_update())
            if cursor is None:  # the first run: no Home was published before anyone opened one
                first = s.scalar(select(func.min(HomeViewer.opened_at)))
                cursor = JobCursor(name=CURSOR, at=first or now, seen={})
                s.add(cursor)
            changed = s.execute(
                select(
                    Ticket.id,
                    Ticket.version,
                    Ticket.priority,
                    Ticket.submitter_id,
                    Ticket.assignee_id,
                ).where(_changed_since(cursor.at - OVERLAP))
            ).all()
            fresh: list[_Changed] = [
                (r[0], r[1], r[2], r[3], r[4])
                for r in changed
                if cursor.seen.get(str(r[0])) != r[1]
            ]
            cursor.at, cursor.seen = now, {str(r[0]): r[1] for r in changed}
            viewers = list(s.scalars(select(HomeViewer.slack_user_id)))
            if fresh and viewers:
                for user in sorted(self._affected(s, viewers, fresh)):
                    self._enqueue(s, user)

    def _affected(self, s: Session, viewers: list[str], changed: Sequence[_Changed]) -> set[str]:
        """Managers see every ticket; technicians the criticals and their own; employees the
        ones they opened."""
        ids = [row[0] for row in changed]
        critical = any(row[2] == "critical" for row in changed)
        people = {p for row in changed for p in (row[3], row[4]) if p is not None}
        helpers = s.execute(
            select(TicketHelper.person_id).where(TicketHelper.ticket_id.in_(ids))
        ).scalars()
        people.update(helpers)
        involved = _slack_ids(s, people)
        affected = set()
        for user in viewers:
            if self._directory.is_manager(user):
                affected.add(user)
            elif self._directory.is_technician(user):
                if critical or user in involved:
                    affected.add(user)
            elif user in involved:
                affected.add(user)
        return affected

    def _enqueue(self, s: Session, user: str) -> None:
        """One pending row per person: a row not yet sent renders the newest state anyway."""
        pending = s.scalar(
            select(OutboxRow.id)
            .where(OutboxRow.stream == stream(user), OutboxRow.status == "pending")
            .limit(1)
        )
        if pending is None:
            self._writer.add(
                s, channel="slack", kind=KIND, stream=stream(user), payload={"user": user}
            )


def _changed_since(since: datetime) -> ColumnElement[bool]:
    """Tickets written since `since`; SLA warnings and breaches change a Home too."""
    return or_(
        Ticket.updated_at > since,
        Ticket.response_warned_at > since,
        Ticket.resolve_warned_at > since,
        Ticket.response_breached_at > since,
        Ticket.resolve_breached_at > since,
    )


def _slack_ids(s: Session, person_ids: Iterable[int]) -> set[str]:
    wanted = list(person_ids)
    if not wanted:
        return set()
    rows = s.scalars(select(Person.slack_user_id).where(Person.id.in_(wanted)))
    return {r for r in rows if r}
