"""Alert payloads and a webhook client for the alert acceptance tests."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from bot.sandbox.slack.emulator import SlackEmulator
from bot.sandbox.stack import CAST, Stack
from storage.models import AlertGroup, ClientAlertLabel, Ticket

TOKEN = "alert-token-" + "x" * 24
ALERTS_CHANNEL = "CALERTS"
GROUP_KEY = '{}:{alertname="DiskFull", service="db"}'


@dataclass(frozen=True)
class Answer:
    status: int
    json: Any
    text: str


def post(
    stack: Stack,
    path: str,
    body: object | bytes,
    *,
    token: str | None = TOKEN,
    headers: Mapping[str, str] | None = None,
    method: str = "POST",
) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        conn.request(method, path, body=raw, headers=sent)
        response = conn.getresponse()
        text = response.read().decode()
    finally:
        conn.close()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    return Answer(response.status, data, text)


def am_alert(
    instance: str,
    *,
    status: str = "firing",
    severity: str = "critical",
    client: str | None = "acme",
    summary: str | None = None,
    alertname: str = "DiskFull",
    fingerprint: str | None = None,
) -> dict[str, Any]:
    labels = {
        "alertname": alertname,
        "instance": instance,
        "service": "db",
        "severity": severity,
    }
    if client:
        labels["client"] = client
    return {
        "status": status,
        "labels": labels,
        "annotations": {
            "summary": summary or f"Disk 95% full on {instance.split(':')[0]}",
            "runbook_url": "https://runbooks.example/disk",
        },
        "startsAt": "2026-11-26T17:22:43.749045757Z",
        "endsAt": "2026-11-26T17:24:34.483Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prom.example/graph?g0.expr=disk",
        "fingerprint": fingerprint or f"fp{abs(hash((alertname, instance))) % 10**12:012d}",
    }


def am_body(*alerts: dict[str, Any], group_key: str = GROUP_KEY) -> dict[str, Any]:
    """An Alertmanager version-4 notification for one group (as in `tests/alerts/bodies/`)."""
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "receiver": "ticketbot",
        "status": "firing" if firing else "resolved",
        "alerts": list(alerts),
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"], "service": "db"},
        "commonLabels": {"alertname": alerts[0]["labels"]["alertname"], "service": "db"},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:19093",
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
    }


def add_alerts_channel(emu: SlackEmulator) -> None:
    emu.add_channel(ALERTS_CHANNEL, "alerts", members=[emu.bot_user_id, CAST.tech1])


def label_acme(stack: Stack) -> None:
    with stack.rt.sessions.begin() as s:
        s.add(ClientAlertLabel(client_id=1, key="client", value="acme"))


@contextmanager
def alert_stack(database_url: str, **env: str) -> Iterator[Stack]:
    extra = {"ALERT_WEBHOOK_TOKEN": TOKEN, "TICKETBOT_ALERTS_CHANNEL": ALERTS_CHANNEL, **env}
    with Stack(database_url=database_url, extra_env=extra, setup=add_alerts_channel) as stack:
        label_acme(stack)
        yield stack


def tickets(stack: Stack) -> list[Ticket]:
    with stack.rt.sessions() as s:
        return list(s.scalars(select(Ticket).order_by(Ticket.id)))


def group_notifications(stack: Stack) -> int:
    with stack.rt.sessions() as s:
        return int(s.scalar(select(func.sum(AlertGroup.notifications))) or 0)


def alert_root(stack: Stack, ticket_id: int, channel: str = CAST.client_channel) -> Any:
    """The client-thread root of a ticket monitoring raised."""
    for msg in stack.emu.messages(channel):
        if msg.bot_id and f"Monitoring raised ticket #{ticket_id} " in msg.text:
            return msg
    raise AssertionError(f"no client thread root for alert ticket #{ticket_id} in {channel}")
