"""Reads what one person's App Home shows (bot/home/view.py) in a few grouped queries:
their role decides the sections. Read-only; never writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from bot.domain.clock import Clock
from bot.home.view import Figures, HomeData, HomeSection, HomeTicket, TechLoad
from bot.messages.view import PersonRef
from bot.people.directory import Directory
from bot.service.views import person_ref, sla_clocks
from storage.models import ChatMessage, Client, Person, Ticket, TicketEvent, TicketHelper

OPEN_STATES = ("new", "assigned", "in_progress", "awaiting_confirmation")
FINAL_STATES = ("closed", "cancelled")
RECENT = timedelta(days=30)  # closed tickets an employee still sees; the manager's figures
PRIORITY_ORDER = ("critical", "high", "medium", "low")
_RISK = {"breached": 0, "at_risk": 1, "running": 2, "stopped": 3}

_Assignee = aliased(Person)


@dataclass(frozen=True)
class _Facts:
    """The SLA columns of a ticket row, for bot.service.views.sla_clocks."""

    state: str
    response_due_at: datetime | None
    resolve_due_at: datetime | None
    responded_at: datetime | None
    response_breached_at: datetime | None
    resolve_breached_at: datetime | None
    response_warned_at: datetime | None
    resolve_warned_at: datetime | None


_ROW: tuple[Any, ...] = (
    Ticket.id,
    Ticket.title,
    Ticket.priority,
    Ticket.state,
    Ticket.updated_at,
    Ticket.submitter_id,
    Ticket.response_due_at,
    Ticket.resolve_due_at,
    Ticket.responded_at,
    Ticket.response_breached_at,
    Ticket.resolve_breached_at,
    Ticket.response_warned_at,
    Ticket.resolve_warned_at,
    Client.name,
    _Assignee.name,
    _Assignee.slack_user_id,
    _Assignee.email,
    _Assignee.teams_aad_id,
)


def _rows(where: ColumnElement[bool], *, oldest_first: bool) -> Select[Any]:
    return (
        select(*_ROW)
        .outerjoin(Client, Client.id == Ticket.client_id)
        .outerjoin(_Assignee, _Assignee.id == Ticket.assignee_id)
        .where(where)
        .order_by(Ticket.id if oldest_first else Ticket.id.desc())
    )


class HomeReader:
    """Builds a person's HomeData: managers see every open ticket, technicians theirs and the
    unassigned criticals, everyone else the tickets they opened."""

    def __init__(
        self,
        *,
        reads: sessionmaker[Session],
        directory: Directory,
        clock: Clock,
        workspace_url: str | None = None,
        max_tickets: int = 2000,
    ) -> None:
        self._reads = reads
        self._directory = directory
        self._clock = clock
        self._workspace_url = workspace_url
        self._max = max_tickets  # a Home pages through at most this many rows per section

    def read(self, user: str) -> HomeData:
        now = self._clock.now()
        with self._reads() as s:
            person = self._directory.find(s, user)
            if self._directory.is_manager(user):
                return self._manager(s, user, now)
            if self._directory.is_technician(user):
                return self._technician(s, user, person, now)
            return self._employee(s, user, person, now)

    # ---- roles -----------------------------------------------------------------------------
    def _manager(self, s: Session, user: str, now: datetime) -> HomeData:
        open_ = Ticket.state.in_(OPEN_STATES)
        rows = self._tickets(s, open_, user=None, oldest_first=True)
        groups: dict[str, list[HomeTicket]] = {}
        for t in rows:
            groups.setdefault(t.priority if t.priority in PRIORITY_ORDER else "other", []).append(t)
        sections = tuple(
            HomeSection(
                f"{name.capitalize()} — {len(groups[name])} open", _by_risk(groups[name]), ""
            )
            for name in (*PRIORITY_ORDER, "other")
            if groups.get(name)
        )
        if not sections:
            sections = (HomeSection("Open tickets", (), "No open tickets. 🎉"),)
        left_out = self._left_out(s, open_, rows)
        if left_out:
            sections = (self._cut_note(left_out, "open tickets"), *sections)
        return HomeData(
            role="manager",
            user=user,
            now=now,
            sections=sections,
            load=self._load(s),
            figures=self._figures(s, now),
            workspace_url=self._workspace_url,
        )

    def _technician(self, s: Session, user: str, me: Person | None, now: datetime) -> HomeData:
        waiting = and_(
            Ticket.state.in_(OPEN_STATES),
            Ticket.priority == "critical",
            Ticket.assignee_id.is_(None),
        )
        unassigned = self._tickets(s, waiting, user=None, oldest_first=True)
        left_out = self._left_out(s, waiting, unassigned)
        mine: list[HomeTicket] = []
        helping: list[HomeTicket] = []
        if me is not None:
            mine = self._tickets(
                s, and_(Ticket.state.in_(OPEN_STATES), Ticket.assignee_id == me.id), user=None
            )
            helped = select(TicketHelper.ticket_id).where(TicketHelper.person_id == me.id)
            helping = self._tickets(
                s, and_(Ticket.state.in_(OPEN_STATES), Ticket.id.in_(helped)), user=None
            )
        sections: tuple[HomeSection, ...] = (
            HomeSection("🔴 Unassigned critical", _by_risk(unassigned), "No unassigned criticals."),
            HomeSection("Assigned to me", _by_risk(mine), "Nothing assigned to you."),
            HomeSection("Helping on", _by_risk(helping), "You are not helping on any ticket."),
        )
        if left_out:
            sections = (self._cut_note(left_out, "unassigned criticals"), *sections)
        return HomeData(
            role="technician",
            user=user,
            now=now,
            sections=sections,
            workspace_url=self._workspace_url,
        )

    def _employee(self, s: Session, user: str, me: Person | None, now: datetime) -> HomeData:
        opened: list[HomeTicket] = []
        recent: list[HomeTicket] = []
        if me is not None:
            mine = Ticket.submitter_id == me.id
            opened = self._tickets(s, and_(mine, Ticket.state.in_(OPEN_STATES)), user=me.id)
            recent = self._tickets(
                s,
                and_(mine, Ticket.state.in_(FINAL_STATES), Ticket.updated_at >= now - RECENT),
                user=me.id,
            )
        return HomeData(
            role="employee",
            user=user,
            now=now,
            sections=(
                HomeSection("Your open tickets", tuple(opened), "You have no open tickets."),
                HomeSection(
                    "Closed in the last 30 days", tuple(recent), "Nothing closed recently."
                ),
            ),
        )

    # ---- queries ---------------------------------------------------------------------------
    def _tickets(
        self,
        s: Session,
        where: ColumnElement[bool],
        *,
        user: int | None,
        oldest_first: bool = False,
    ) -> list[HomeTicket]:
        """At most `max_tickets` ticket rows, the newest (or with `oldest_first`, the oldest:
        where an open list's SLA risk is); one query, plus one for the cards when Slack posted
        them. `user`: the reader's person id, who may confirm what they submitted."""
        rows = s.execute(_rows(where, oldest_first=oldest_first).limit(self._max)).all()
        cards = self._cards(s, [r[0] for r in rows]) if self._workspace_url else {}
        found = []
        for r in rows:
            facts = _Facts(r[3], *r[6:13])
            assignee = None
            if r[14] is not None:
                assignee = PersonRef(name=r[14], slack_id=r[15], email=r[16], aad_id=r[17])
            found.append(
                HomeTicket(
                    id=r[0],
                    title=r[1],
                    priority=r[2],
                    state=r[3],
                    client_name=r[13],
                    assignee=assignee,
                    updated_at=r[4],
                    sla=sla_clocks(facts),
                    card=cards.get(r[0]),
                    confirm=user is not None and r[5] == user and r[3] == "awaiting_confirmation",
                )
            )
        return found

    def _left_out(self, s: Session, where: ColumnElement[bool], listed: list[HomeTicket]) -> int:
        """How many tickets of `where` a list cut at `max_tickets` leaves out (a count only when
        it was cut)."""
        if len(listed) < self._max:
            return 0
        total = s.scalar(select(func.count()).select_from(Ticket).where(where)) or 0
        return max(0, total - len(listed))

    def _cut_note(self, left_out: int, what: str) -> HomeSection:
        return HomeSection(
            f"{left_out:,} newer {what} are not listed",
            (),
            f"A Home lists the {self._max:,} oldest, where the SLA risk is. "
            "`/ticket status <id>` shows any ticket.",
        )

    def _cards(self, s: Session, ticket_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        if not ticket_ids:
            return {}
        rows = s.execute(
            select(ChatMessage.ticket_id, ChatMessage.channel, ChatMessage.ts).where(
                ChatMessage.ticket_id.in_(ticket_ids),
                ChatMessage.role == "card",
                ChatMessage.surface == "slack",
            )
        ).all()
        return {int(t): (str(c), str(ts)) for t, c, ts in rows}

    def _load(self, s: Session) -> tuple[TechLoad, ...]:
        """Every technician's open tickets, busiest first (two queries)."""
        counts = {
            pid: (int(n), int(crit or 0))
            for pid, n, crit in s.execute(
                select(
                    Ticket.assignee_id,
                    func.count(),
                    func.sum(case((Ticket.priority == "critical", 1), else_=0)),
                )
                .where(Ticket.state.in_(OPEN_STATES), Ticket.assignee_id.is_not(None))
                .group_by(Ticket.assignee_id)
            ).all()
        }
        people = self._directory.people(s, self._directory.technicians)
        loads = [
            TechLoad(person_ref(p), *counts.get(p.id, (0, 0)))
            for p in people
            if p.deactivated_at is None
        ]
        return tuple(sorted(loads, key=lambda x: (-x.open, x.person.name.lower())))

    def _figures(self, s: Session, now: datetime) -> Figures:
        since = now - RECENT
        opened, closed, response_breaches, resolve_breaches = s.execute(
            select(
                func.count(Ticket.id).filter(Ticket.created_at >= since),
                func.count(Ticket.id).filter(Ticket.state == "closed", Ticket.closed_at >= since),
                func.count(Ticket.id).filter(Ticket.response_breached_at >= since),
                func.count(Ticket.id).filter(Ticket.resolve_breached_at >= since),
            ).where(or_(Ticket.created_at >= since, Ticket.updated_at >= since))
        ).one()
        firsts = s.execute(
            select(TicketEvent.kind, Ticket.created_at, func.min(TicketEvent.at))
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(Ticket.created_at >= since, TicketEvent.kind.in_(("assigned", "resolved")))
            .group_by(TicketEvent.ticket_id, TicketEvent.kind, Ticket.created_at)
        ).all()
        return Figures(
            days=RECENT.days,
            opened=int(opened),
            closed=int(closed),
            mean_assign=_mean(at - c for k, c, at in firsts if k == "assigned"),
            mean_resolve=_mean(at - c for k, c, at in firsts if k == "resolved"),
            breaches=int(response_breaches) + int(resolve_breaches),
        )


def _mean(spans: Iterable[timedelta]) -> timedelta | None:
    items = list(spans)
    if not items:
        return None
    return sum(items, timedelta()) / len(items)


def _by_risk(tickets: Sequence[HomeTicket]) -> tuple[HomeTicket, ...]:
    """Breached first, then at risk, then by the nearest due time; no clock last, newest first."""

    def key(t: HomeTicket) -> tuple[int, float, int]:
        if not t.sla:
            return (4, 0.0, -t.id)
        worst = min(t.sla, key=lambda c: (_RISK[c.status], c.due_at))
        return (_RISK[worst.status], worst.due_at.timestamp(), -t.id)

    return tuple(sorted(tickets, key=key))
