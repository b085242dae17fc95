"""Alert ingestion: alerts → one open ticket per problem, one transaction per delivery.

Dedup by group key; repeats only count; recovery is an update, never a close; a burst of new alert
tickets becomes a storm shown as one summary message (bot.alerts.storms).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, sessionmaker

from bot.alerts.clients import client_for
from bot.alerts.instances import Changes, alert_title, still_firing, upsert_instances
from bot.alerts.model import Alert, AlertStatus
from bot.alerts.severity import priority_for
from bot.alerts.storms import Storms
from bot.domain.clock import Clock
from bot.domain.text import CONTROL_CHARS, TEXT_MAX
from bot.domain.tickets import State
from bot.messages.escape import one_line
from bot.service.notify.matrix import Notifier
from bot.service.sla import SlaPolicy
from bot.service.timers.escalation import REPING, EscalationPolicy, kinds
from bot.service.timers.schedule import Timers
from bot.service.views import ticket_view
from storage.models import AlertGroup, AlertInstance, Ticket, ticket_events_table

log = logging.getLogger(__name__)

ACTOR = "monitoring"


@dataclass(frozen=True)
class AlertPolicy:
    tech_channel: str | None  # the Slack technician channel; None: no storm summaries (Teams)
    # TICKETBOT_ALERT_SEVERITY_MAP: overrides of bot.alerts.severity's table.
    severity_map: Mapping[str, str] = field(default_factory=dict)
    storm_threshold: int = 10


@dataclass
class IngestResult:
    """What one delivery did; `alerts` counts every alert stored (new, repeated or changed)."""

    alerts: int = 0
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)


class AlertService:
    """Turns alerts into tickets and updates; each `ingest` is one committed transaction."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        notifier: Notifier,
        clock: Clock,
        policy: AlertPolicy,
        timers: Timers | None = None,
        sla: SlaPolicy | None = None,
    ) -> None:
        """`timers`: the deployment's timer kinds (default: escalation with default delays);
        `sla`: its SLA targets and default calendar (default: the settings' defaults)."""
        self._sessions = session_factory
        self._notify = notifier
        self._clock = clock
        self._policy = policy
        self._timers = timers or Timers.of(kinds(EscalationPolicy()))
        self._sla = sla or SlaPolicy.of_defaults()
        self._storms = Storms(
            notifier, channel=policy.tech_channel, threshold=policy.storm_threshold
        )

    def ingest(self, alerts: Sequence[Alert]) -> IngestResult:
        """Store `alerts` and write their notifications; retried once on a concurrent insert."""
        for attempt in range(3):
            try:
                with self._sessions.begin() as s:
                    return self._ingest(s, alerts)
            except IntegrityError:  # another replica created the same group at the same moment
                if attempt == 2:
                    raise
                log.info("alert group created concurrently; retrying")
        raise AssertionError("unreachable")

    # ---- one delivery ----------------------------------------------------------------------
    def _ingest(self, s: Session, alerts: Sequence[Alert]) -> IngestResult:
        result = IngestResult()
        groups: dict[str, list[Alert]] = {}
        for alert in alerts:
            groups.setdefault(alert.group_key, []).append(alert)
        now = self._clock.now()
        found = self._find_groups(s, list(groups))
        legacy = {
            key: items[0]
            for key, items in groups.items()
            if _hash(key) not in found and items[0].legacy_group_key
        }
        if legacy:
            found |= self._rekey(s, legacy)
        for key, items in groups.items():
            group = found.get(_hash(key))
            self._ingest_group(s, key, group, _latest_per_fingerprint(items), now, result)
        self._storms.count_joined(s, now)
        return result

    def _ingest_group(
        self,
        s: Session,
        key: str,
        group: AlertGroup | None,
        items: list[Alert],
        now: datetime,
        result: IngestResult,
    ) -> None:
        ticket = group.ticket if group is not None else None
        firing = [a for a in items if a.status is AlertStatus.FIRING]
        result.alerts += len(items)
        if ticket is None or ticket.state == State.CLOSED.value:
            if firing:
                previous = ticket.id if ticket is not None else None
                ticket = self._open(s, firing, previous, now)
                result.created.append(ticket.id)
            else:  # a recovery of a problem with no open ticket: remembered, no noise
                ticket = None
            status = AlertStatus.FIRING if firing else AlertStatus.RESOLVED
            if group is None:  # inserted whole, with its ticket: one statement
                group = AlertGroup(
                    key_hash=_hash(key),
                    key=key,
                    source=items[0].source,
                    ticket=ticket,
                    status=status.value,
                    notifications=1,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                s.add(group)
                s.flush()
                upsert_instances(s, group, items, now, opening=True, new_group=True)
                return
            if ticket is not None:
                group.ticket = ticket
            group.status = status.value
            group.last_seen_at, group.notifications = now, group.notifications + 1
            s.flush()
            upsert_instances(s, group, items, now, opening=True)
            return
        assert group is not None  # an open ticket was found through its group
        changes = upsert_instances(s, group, items, now)
        group.last_seen_at, group.notifications = now, group.notifications + 1
        if not (changes.joined or changes.again or changes.recovered):
            return  # a repeat: counted, never announced
        result.updated.append(ticket.id)
        view = ticket_view(ticket, now)
        if changes.joined or changes.again:
            group.status = AlertStatus.FIRING.value
            self._timeline(s, ticket, "alert_update", _summary(changes), now)
            self._notify.alerts_joined(s, ticket, view, changes.joined, changes.again)
        if changes.recovered:
            still = still_firing(s, group)
            if still == 0:
                group.status = AlertStatus.RESOLVED.value
                at = max((a.ends_at for a in items if a.ends_at), default=now)
                self._timeline(s, ticket, "alert_recovered", "monitoring reports recovered", now)
                self._notify.alert_recovered(s, ticket, view, at)
            else:
                self._timeline(
                    s, ticket, "alert_update", f"{len(changes.recovered)} alert(s) recovered", now
                )
                self._notify.alerts_partly_recovered(s, ticket, view, changes.recovered, still)

    def _find_groups(self, s: Session, keys: list[str]) -> dict[str, AlertGroup]:
        """The delivery's known groups with their tickets, by key hash. On PostgreSQL they are
        locked, always in key-hash order, so two deliveries sharing groups cannot deadlock."""
        query = (
            select(AlertGroup)
            .options(joinedload(AlertGroup.ticket))
            .where(AlertGroup.key_hash.in_({_hash(key) for key in keys}))
            .order_by(AlertGroup.key_hash)
        )
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            query = query.with_for_update(of=AlertGroup)
        return {group.key_hash: group for group in s.scalars(query).unique()}

    def _rekey(self, s: Session, alerts: dict[str, Alert]) -> dict[str, AlertGroup]:
        """Groups an older release keyed differently (see bot.alerts.legacy_key) whose ticket is
        still open, moved to their new keys, by new key hash: their next alert updates them."""
        old_keys = {_hash(a.legacy_group_key or ""): key for key, a in alerts.items()}
        query = (
            select(AlertGroup)
            .options(joinedload(AlertGroup.ticket))
            .where(AlertGroup.key_hash.in_(old_keys))
            .order_by(AlertGroup.key_hash)
        )
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            query = query.with_for_update(of=AlertGroup)
        moved: dict[str, AlertGroup] = {}
        for group in s.scalars(query).unique():
            if group.ticket is None or group.ticket.state == State.CLOSED.value:
                continue
            key = old_keys[group.key_hash]
            alert = alerts[key]
            group.key, group.key_hash = key, _hash(key)
            if alert.legacy_fingerprint and alert.legacy_fingerprint != alert.fingerprint:
                s.execute(
                    update(AlertInstance)
                    .where(
                        AlertInstance.group_id == group.id,
                        AlertInstance.fingerprint == alert.legacy_fingerprint,
                    )
                    .values(fingerprint=alert.fingerprint)
                )
            log.info("alert group re-keyed", extra={"ticket_id": group.ticket.id})
            moved[group.key_hash] = group
        s.flush()
        return moved

    # ---- a new ticket ----------------------------------------------------------------------
    def _open(self, s: Session, firing: list[Alert], previous: int | None, now: datetime) -> Ticket:
        first = firing[0]
        client, client_match = client_for(s, firing)
        priority = self._priority(first)
        title = alert_title(first.title)
        ticket = Ticket(
            title=title,
            description=_description(firing, previous),
            priority=priority,
            state=State.NEW.value,
            source="monitoring",
            source_link=first.link,
            client=client,
            client_unknown=client is None,
            client_match=client_match,
            origin_channel=client.slack_channel_id if client is not None else None,
            created_at=now,
            updated_at=now,
            helpers=[],
            **self._sla.opened(priority, client, now),
        )
        s.add(ticket)
        s.flush()
        text = f"{priority} — {title}" + (f" (follows #{previous})" if previous else "")
        self._timeline(s, ticket, "created", text, now, data={"alert": first.group_key[:500]})
        storm, started = self._storms.join(s, ticket, now)
        labels = {k: str(v) for k, v in first.labels.items()}
        self._notify.alert_raised(
            s,
            ticket,
            ticket_view(ticket, now),
            labels=labels,
            previous=previous,
            storm=storm,
            storm_started=started,
        )
        # A storm is announced once: its tickets are not re-pinged one by one; their SLA clocks
        # and the rest run as any ticket's.
        self._timers.opened(s, ticket, now, leave_out=(REPING,) if storm is not None else ())
        return ticket

    def _priority(self, alert: Alert) -> str:
        tool = alert.tool or (alert.source if alert.source != "slack" else None)
        return priority_for(tool, alert.severity, self._policy.severity_map)

    def _timeline(
        self,
        s: Session,
        ticket: Ticket,
        kind: str,
        text: str,
        now: datetime,
        *,
        data: dict[str, Any] | None = None,
    ) -> None:
        s.execute(
            insert(ticket_events_table),
            {
                "ticket_id": ticket.id,
                "at": now,
                "actor_id": None,
                "actor_label": ACTOR,
                "kind": kind,
                "surface": ACTOR,
                "text": text[:TEXT_MAX],
                "data": data or {},
            },
        )
        if kind != "created":
            ticket.updated_at = now


def _latest_per_fingerprint(items: list[Alert]) -> list[Alert]:
    """A delivery may repeat an alert (generic lists); its last word counts."""
    latest: dict[str, Alert] = {}
    for alert in items:
        latest[alert.fingerprint] = alert
    return list(latest.values())


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _summary(changes: Changes) -> str:
    parts = []
    if changes.joined:
        parts.append(f"{len(changes.joined)} alert(s) joined")
    if changes.again:
        parts.append(f"{len(changes.again)} firing again")
    return ", ".join(parts)


def _description(firing: list[Alert], previous: int | None) -> str:
    first = firing[0]
    lines = [CONTROL_CHARS.sub("", first.description or "").strip()]
    if previous is not None:
        lines.append(f"The same alert fired again after #{previous} was closed.")
    if first.labels:
        lines.append("Labels: " + ", ".join(f"{k}={v}" for k, v in sorted(first.labels.items())))
    if len(firing) > 1:
        lines.append(f"{len(firing)} alerts firing:")
        lines += [f"- {one_line(a.title, 200)}" for a in firing[:50]]
        if len(firing) > 50:
            lines.append(f"… and {len(firing) - 50} more")
    return CONTROL_CHARS.sub("", "\n\n".join(x for x in lines if x))[:TEXT_MAX]
