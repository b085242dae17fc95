"""The people section: who manages and who works the tickets, and how often that is read again."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field

from bot.config.fields import Duration, Section
from bot.config.parsers import EMAIL, GUID
from bot.config.problems import refuse, shown

_USER_ID = re.compile(r"[UW][A-Z0-9]+")


def _person_id(item: str) -> str:
    """Emails and GUIDs compare case-insensitively; Slack ids are upper-case already."""
    return item.lower() if "@" in item or GUID.fullmatch(item) else item


def _person_ids(value: object) -> object:
    """Slack user ids, Teams (Entra) object ids or email addresses (stored lower-case)."""
    if not isinstance(value, str):
        return value
    items = tuple(
        dict.fromkeys(_person_id(item.strip()) for item in value.split(",") if item.strip())
    )
    bad = [
        item
        for item in items
        if not (_USER_ID.fullmatch(item) or GUID.fullmatch(item) or EMAIL.fullmatch(item))
    ]
    if bad:
        raise refuse(
            "must be comma-separated Slack user IDs (U… or W…, capital letters and digits, from "
            "a profile's ⋮ > Copy member ID), Teams object IDs (GUIDs) or email addresses, got "
            + ", ".join(shown(item) for item in bad)
        )
    return items


PersonIds = Annotated[tuple[str, ...], BeforeValidator(_person_ids)]


class PeopleSection(Section):
    """Who manages and who works the tickets: Slack user ids, Teams object ids or emails."""

    managers: PersonIds = Field(default=(), validation_alias="TICKETBOT_MANAGERS")
    # (): the members of the technician channel(s)
    technicians: PersonIds = Field(default=(), validation_alias="TICKETBOT_TECHNICIANS")
    # Re-reading the technician channel's members and the managers' accounts.
    members_refresh: Duration = Field(
        default=timedelta(minutes=10), validation_alias="TICKETBOT_MEMBERS_REFRESH"
    )
