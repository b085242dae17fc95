"""A Teams person as the Bot Connector roster describes them. Imports nothing of the bot, so
delivery (which reads the roster) and the directory (which stores people) can both use it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TeamsMember:
    """`id` is the Bot Connector's "29:…" user id; `aad_object_id` the Entra object id that
    TICKETBOT_MANAGERS / TICKETBOT_TECHNICIANS may name. Activities carry no email: the roster
    does (`email`, else `user_principal_name`, which is usually the sign-in address)."""

    id: str
    aad_object_id: str | None
    name: str
    email: str | None
    user_principal_name: str | None
    tenant_id: str | None

    @property
    def address(self) -> str | None:
        """The best email address to match this person by (lower-cased)."""
        value = self.email or (
            self.user_principal_name if "@" in (self.user_principal_name or "") else None
        )
        return value.strip().lower() if value else None

    @classmethod
    def from_api(cls, member: Mapping[str, Any]) -> TeamsMember:
        """From a TeamsChannelAccount (`GET /v3/conversations/{id}/members[/{userId}]`)."""
        user_id = str(member.get("id") or "")

        def text(key: str) -> str | None:
            value = member.get(key)
            return str(value) if isinstance(value, str) and value else None

        return cls(
            id=user_id,
            aad_object_id=text("aadObjectId") or text("objectId"),
            name=text("name") or text("givenName") or user_id,
            email=text("email"),
            user_principal_name=text("userPrincipalName"),
            tenant_id=text("tenantId"),
        )
