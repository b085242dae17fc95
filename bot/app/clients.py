"""Client companies: validated add / change / remove / list (the `ticketbot clients` commands)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.business_hours import HOURS_EXAMPLE, parse_hours
from bot.teams.webhook_urls import workflows_url_problem
from storage.models import Client, ClientAlertLabel, ClientDomain, ClientHoliday

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
TENANT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TEAMS_LINK_HOSTS = ("teams.microsoft.com", "teams.cloud.microsoft")  # "Get link to channel"
# A Teams channel's conversation id: 19:<id>@thread.tacv2 (older teams: @thread.skype).
TEAMS_CHANNEL = re.compile(r"^19:[A-Za-z0-9_\-.]{1,450}@thread\.(tacv2|skype)$")


class ClientError(Exception):
    """Invalid client data; the message lists every problem."""


@dataclass(frozen=True)
class ClientSpec:
    name: str
    domains: Sequence[str] = ()
    contact_email: str | None = None
    slack_channel: str | None = None
    teams_webhook: str | None = None
    teams_tenant: str | None = None
    teams_channel: str | None = None
    teams_outgoing_secret: str | None = None
    alert_labels: Sequence[str] = ()
    timezone: str | None = None
    hours: str | None = None
    holidays: Sequence[str] = ()  # YYYY-MM-DD, added
    remove_holidays: Sequence[str] = ()  # YYYY-MM-DD, removed


def validate(spec: ClientSpec) -> list[str]:
    problems = []
    if not spec.name.strip():
        problems.append("--name must not be empty")
    for d in spec.domains:
        if not DOMAIN.match(d.lower()):
            problems.append(f"--domain {d!r} is not a domain name like example.com")
    if spec.contact_email is not None and not EMAIL.match(spec.contact_email):
        problems.append(f"--contact-email {spec.contact_email!r} is not an email address")
    if spec.slack_channel is not None and not CHANNEL.match(spec.slack_channel):
        problems.append(f"--slack-channel {spec.slack_channel!r} is not a Slack channel id (C…/G…)")
    if spec.teams_webhook is not None:
        problem = workflows_url_problem(spec.teams_webhook)
        if problem is not None:  # the URL itself is never echoed: its sig= is a secret
            problems.append(f"--teams-webhook {problem}")
    if spec.teams_tenant is not None and not TENANT.match(spec.teams_tenant.strip().lower()):
        problems.append(
            f"--teams-tenant {spec.teams_tenant!r} is not a Microsoft Entra tenant id "
            "(a GUID like 0a1b2c3d-1111-2222-3333-444455556666)"
        )
    if spec.teams_channel is not None and teams_channel_id(spec.teams_channel) is None:
        problems.append(
            f"--teams-channel {spec.teams_channel!r} is not a Teams channel conversation id "
            'like 19:…@thread.tacv2 (or the channel\'s link from "Get link to channel")'
        )
    for label in spec.alert_labels:
        key, sep, value = label.partition("=")
        if not sep or not key.strip() or not value.strip():
            problems.append(f"--alert-label {label!r} must look like KEY=VALUE")
    if spec.timezone is not None:
        try:
            ZoneInfo(spec.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"--timezone {spec.timezone!r} is not a time zone like Europe/London")
    if spec.hours is not None:
        try:
            parse_hours(spec.hours)
        except ValueError as e:
            problems.append(f"--hours: {e} (like {HOURS_EXAMPLE})")
    for option, days in (("--holiday", spec.holidays), ("--remove-holiday", spec.remove_holidays)):
        problems += [f"{option} {d!r} is not a date like 2026-12-25" for d in days if not _day(d)]
    return problems


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if len(text.strip()) == 10 else None
    except ValueError:
        return None


def teams_channel_id(value: str) -> str | None:
    """The conversation id in `value` (an id, or a teams.microsoft.com/l/channel/… link); None
    when it is neither. A thread's id (`…;messageid=…`) is not a channel's."""
    value = value.strip()
    if value.startswith("https://"):
        parts = urlsplit(value)
        segments = parts.path.split("/")
        if parts.hostname not in TEAMS_LINK_HOSTS or segments[1:3] != ["l", "channel"]:
            return None
        value = unquote(segments[3]) if len(segments) > 3 else ""
    return value if TEAMS_CHANNEL.match(value) else None


def add_client(session: Session, spec: ClientSpec, now: datetime) -> Client:
    problems = validate(spec)
    if not spec.domains:
        problems.append("give at least one --domain (employees' email domain)")
    if spec.contact_email is None:
        problems.append("--contact-email is required (the client's primary contact)")
    if session.scalar(select(Client).where(Client.name == spec.name.strip())) is not None:
        problems.append(f"a client named {spec.name!r} exists already (use `clients update`)")
    problems += _taken(session, spec, None)
    if problems:
        raise ClientError("\n".join(problems))
    client = Client(name=spec.name.strip(), created_at=now)
    _apply(client, spec)
    session.add(client)
    session.flush()
    return client


def update_client(session: Session, name: str, spec: ClientSpec) -> Client:
    client = find(session, name)
    problems = validate(spec) + _taken(session, spec, client.id)
    if problems:
        raise ClientError("\n".join(problems))
    _apply(client, spec)
    session.flush()
    return client


def remove_client(session: Session, name: str) -> None:
    session.delete(find(session, name))
    session.flush()


def find(session: Session, name: str) -> Client:
    client = session.scalar(select(Client).where(Client.name == name))
    if client is None:
        raise ClientError(f"no client named {name!r} (see `ticketbot clients list`)")
    return client


def list_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).order_by(Client.name)))


def _taken(session: Session, spec: ClientSpec, own_id: int | None) -> list[str]:
    problems = []
    for d in spec.domains:
        row = session.get(ClientDomain, d.lower())
        if row is not None and row.client_id != own_id:
            problems.append(f"domain {d} already belongs to {row.client.name}")
    if spec.slack_channel:
        other = session.scalar(select(Client).where(Client.slack_channel_id == spec.slack_channel))
        if other is not None and other.id != own_id:
            problems.append(f"channel {spec.slack_channel} already belongs to {other.name}")
    tenant = _tenant(spec)
    if tenant:
        other = session.scalar(select(Client).where(Client.teams_tenant_id == tenant))
        if other is not None and other.id != own_id:
            problems.append(f"Teams tenant {tenant} already belongs to {other.name}")
    channel = teams_channel_id(spec.teams_channel) if spec.teams_channel else None
    if channel:
        other = session.scalar(select(Client).where(Client.teams_channel_id == channel))
        if other is not None and other.id != own_id:
            problems.append(f"Teams channel {channel} already belongs to {other.name}")
    for label in spec.alert_labels:
        key, _, value = label.partition("=")
        label_row = session.scalar(
            select(ClientAlertLabel).where(
                ClientAlertLabel.key == key.strip(), ClientAlertLabel.value == value.strip()
            )
        )
        if label_row is not None and label_row.client_id != own_id:
            problems.append(f"alert label {label} already belongs to {label_row.client.name}")
    return problems


def _apply(client: Client, spec: ClientSpec) -> None:
    """Set the given fields; repeated options (domains, labels) replace the old list."""
    if spec.domains:
        client.domains = [ClientDomain(domain=d.lower()) for d in dict.fromkeys(spec.domains)]
    if spec.contact_email is not None:
        client.contact_email = spec.contact_email
    if spec.slack_channel is not None:
        client.slack_channel_id = spec.slack_channel
    if spec.teams_webhook is not None:
        client.teams_webhook_url = spec.teams_webhook.strip()
    if spec.teams_tenant is not None:
        client.teams_tenant_id = _tenant(spec)
    if spec.teams_channel is not None:
        client.teams_channel_id = teams_channel_id(spec.teams_channel)
    if spec.teams_outgoing_secret is not None:
        client.teams_outgoing_secret = spec.teams_outgoing_secret
    if spec.alert_labels:
        pairs = [tuple(x.strip() for x in label.split("=", 1)) for label in spec.alert_labels]
        client.alert_labels = [ClientAlertLabel(key=k, value=v) for k, v in dict.fromkeys(pairs)]
    if spec.timezone is not None:
        client.timezone = spec.timezone
    if spec.hours is not None:
        client.hours = spec.hours.strip()
    removed = {_day(d) for d in spec.remove_holidays}
    client.holidays[:] = [h for h in client.holidays if h.day not in removed]
    have = {h.day for h in client.holidays}
    for day in sorted({d for d in map(_day, spec.holidays) if d} - have - removed):
        client.holidays.append(ClientHoliday(day=day))


def _tenant(spec: ClientSpec) -> str | None:
    """Stored lowercase (GUIDs are case-insensitive): look an activity's tenant id up lowercased."""
    return spec.teams_tenant.strip().lower() if spec.teams_tenant else None
