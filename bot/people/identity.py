"""A person's keys, and the profiles Slack and Teams give of people.

A person is named by a key: a Slack user id, or `teams:<Entra object id>`; the settings may
also name a person by email address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from storage.models import Person

TEAMS_PREFIX = "teams:"
SLACK_ID = re.compile(r"[UW][A-Z0-9]+")


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    email: str | None
    is_bot: bool = False
    is_guest: bool = False  # a multi- or single-channel guest (is_restricted / is_ultra_restricted)
    deleted: bool = False  # deactivated

    @classmethod
    def from_api(cls, user: Mapping[str, Any]) -> SlackUser:
        """From a Slack user object (users.info's `user`, user_change's `user`)."""
        profile = user.get("profile") or {}
        user_id = str(user.get("id") or "")
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or user_id
        )
        return cls(
            id=user_id,
            name=str(name),
            email=profile.get("email"),
            is_bot=bool(user.get("is_bot")),
            is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
            deleted=bool(user.get("deleted")),
        )


@dataclass(frozen=True)
class TeamsUser:
    """A Teams user as an activity and the conversation roster describe them."""

    aad_id: str  # Entra object id
    user_id: str  # Bot Framework id, 29:…
    name: str
    email: str | None
    tenant_id: str | None = None
    # False: only what the activity says (the roster could not be read): no email, so the
    # person is looked up again on their next activity.
    from_roster: bool = True

    @property
    def key(self) -> str:
        return TEAMS_PREFIX + self.aad_id


Profile = SlackUser | TeamsUser


class UserLookup(Protocol):
    """The Slack calls the directory needs (users.info, conversations.members)."""

    def user_info(self, user_id: str) -> SlackUser | None: ...

    def channel_members(self, channel_id: str) -> list[str]: ...


def keys_of(person: Person) -> list[str]:
    """Every key that names `person`."""
    keys = []
    if person.slack_user_id:
        keys.append(person.slack_user_id)
    if person.teams_aad_id:
        keys.append(TEAMS_PREFIX + person.teams_aad_id)
    return keys


def person_key(person: Person) -> str:
    """The key handlers use for `person`: the Slack id when there is one."""
    keys = keys_of(person)
    return keys[0] if keys else f"person:{person.id}"


def config_key(item: str) -> str:
    """A configured id as a key: Slack ids as they are, object ids prefixed, emails as they are."""
    if SLACK_ID.fullmatch(item) or "@" in item:
        return item
    return TEAMS_PREFIX + item.lower()
