"""Which client an alert belongs to: an explicit client name, a client's alert label, a `client`
label naming a client, or a host name under a client's domain."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.alerts.hosts import host_hints, match_domain
from bot.alerts.model import Alert
from storage.models import Client, ClientAlertLabel, ClientDomain

_CLIENTS = "ticketbot.alert_clients"  # Session.info: clients and labels read for a delivery


def client_for(s: Session, alerts: list[Alert]) -> tuple[Client | None, str | None]:
    """The client and how it was found: an explicit client name, else a client's alert
    label, else a `client` label naming a client, else a host name the alerts mention under
    a client's domain. Clients, labels and domains are read once per delivery."""
    known = _clients(s)
    for name in dict.fromkeys(a.client.strip().lower() for a in alerts if a.client):
        if name in known.named:
            return known.named[name], "named by the alert"
    pairs = {(k, str(v)) for a in alerts for k, v in a.labels.items()}
    for (key, value), client in known.labelled:
        if (key, value) in pairs:
            return client, f"label {key}={value}"
    for value in dict.fromkeys(v.lower() for k, v in sorted(pairs) if k == "client" and v):
        if value in known.named:
            return known.named[value], f"label client={value}"
    for alert in alerts:
        found = match_domain(host_hints(alert), known.domains)
        if found is not None:
            hint, client = found
            return client, hint.describe()
    return None, None


def _clients(s: Session) -> _KnownClients:
    """Clients by lower-cased name, (label, client) in the order labels were added, and
    clients by domain (lower-case)."""
    cached: _KnownClients | None = s.info.get(_CLIENTS)
    if cached is None:
        clients = s.scalars(select(Client).order_by(Client.id)).all()
        named: dict[str, Client] = {}
        for client in clients:
            named.setdefault(client.name.lower(), client)
        by_id = {client.id: client for client in clients}
        labels = s.scalars(select(ClientAlertLabel).order_by(ClientAlertLabel.id)).all()
        labelled = [((row.key, row.value), by_id[row.client_id]) for row in labels]
        domains = {
            row.domain.strip().rstrip(".").lower(): by_id[row.client_id]
            for row in s.scalars(select(ClientDomain).order_by(ClientDomain.domain))
        }
        cached = s.info[_CLIENTS] = _KnownClients(named, labelled, domains)
    return cached


@dataclass(frozen=True)
class _KnownClients:
    named: dict[str, Client]
    labelled: list[tuple[tuple[str, str], Client]]
    domains: dict[str, Client]
