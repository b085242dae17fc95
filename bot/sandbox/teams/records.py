"""What the Bot Connector stand-in holds and records: the roster, channels, the activities the
bot posted (current version plus history), and every HTTP call it answered."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
ConversationKind = Literal["personal", "channel"]


@dataclass(frozen=True)
class TeamsUser:
    """A person in the roster, as `GET /v3/conversations/{id}/members/{userId}` shows them."""

    id: str  # "29:…"
    aad_object_id: str
    name: str
    email: str
    user_principal_name: str
    tenant_id: str

    def account(self) -> JSON:
        """The `from` / `membersAdded` shape inside activities."""
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}

    def to_api(self) -> JSON:
        given, _, surname = self.name.partition(" ")
        return {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "givenName": given,
            "surname": surname,
            "email": self.email,
            "userPrincipalName": self.user_principal_name,
            "tenantId": self.tenant_id,
            "userRole": "user",
        }


@dataclass(frozen=True)
class TeamsChannel:
    """A standard channel of a team; `team_id` is also the id of the team's General channel."""

    id: str  # "19:…@thread.tacv2"
    name: str
    team_id: str
    team_name: str
    aad_group_id: str
    tenant_id: str
    member_ids: tuple[str, ...]


@dataclass
class PostedActivity:
    """An activity the bot posted, in its current version; `versions` holds the earlier ones."""

    id: str
    conversation_id: str  # without ";messageid=…"
    activity: JSON
    thread_root: str | None = None  # the root's id for a reply in a channel thread
    versions: list[JSON] = field(default_factory=list)
    deleted: bool = False

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")

    @property
    def cards(self) -> list[JSON]:
        """The Adaptive Card contents among the attachments."""
        return [
            a.get("content") or {}
            for a in self.activity.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    def snapshot(self) -> PostedActivity:
        return copy.deepcopy(self)


@dataclass(frozen=True)
class ConnectorCall:
    """One HTTP request the stand-in answered. Secrets (client_secret, tokens) are not kept."""

    method: str
    path: str
    status: int
    body: JSON | list[Any] | None
    conversation_id: str | None
    authorized: bool
    at: float
