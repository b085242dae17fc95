"""Which client company a person, or a new ticket, belongs to: by the channel asked in, the
Teams tenant, the person's stored client, or their email domain."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from bot.people.identity import keys_of
from bot.people.remembered import RememberedPeople
from storage.models import Client, ClientDomain, Person

# A client by channel, by id, or by email domain (a NULL parameter matches nothing).
_CLIENTS_FOR_TICKET = (
    select(Client, ClientDomain.domain)
    .outerjoin(
        ClientDomain,
        and_(ClientDomain.client_id == Client.id, ClientDomain.domain == bindparam("domain")),
    )
    .where(
        or_(
            Client.slack_channel_id == bindparam("channel"),
            Client.teams_channel_id == bindparam("channel"),
            Client.teams_tenant_id == bindparam("tenant"),
            Client.id == bindparam("client_id"),
            ClientDomain.domain.is_not(None),
        )
    )
)


class ClientMatching(RememberedPeople):
    """Client lookups; a match by email domain is stored as the person's client."""

    def client_for_email(self, session: Session, email: str) -> Client | None:
        domain = email.rsplit("@", 1)[-1].lower()
        row = session.get(ClientDomain, domain)
        return row.client if row else None

    def client_for_ticket(
        self,
        session: Session,
        person: Person,
        channel_id: str | None,
        *,
        teams_tenant: str | None = None,
    ) -> Client | None:
        """The client of a new ticket: the channel's (Slack or Teams), else the Teams tenant's,
        else the person's, else their email domain's.

        A domain match becomes the person's client (a client added since we last saw them). One
        statement for all the lookups; a client list is short enough to scan.
        """
        domain = person.email.rsplit("@", 1)[-1].lower() if person.email else None
        if not (channel_id or teams_tenant or person.client_id is not None or domain):
            return None
        params = {
            "channel": channel_id or None,
            "tenant": teams_tenant or None,
            "client_id": person.client_id,
            "domain": domain,
        }
        rows = session.execute(_CLIENTS_FOR_TICKET, params).all()
        for client, _ in rows:
            if channel_id and channel_id in (client.slack_channel_id, client.teams_channel_id):
                return client
        for client, _ in rows:
            if teams_tenant and client.teams_tenant_id == teams_tenant:
                return client
        for client, _ in rows:
            if client.id == person.client_id:
                return client
        if not person.email:
            return None
        by_domain = next((client for client, matched in rows if matched is not None), None)
        client_id = by_domain.id if by_domain is not None else None
        if person.client_id != client_id:  # even an unchanged value would cost a flush
            for key in keys_of(person):
                self._writing(session, key)
            person.client_id = client_id
        return by_domain
