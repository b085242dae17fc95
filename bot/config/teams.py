"""The Teams section: the bot's registration (all three keys or none), its technician channel,
who a critical ticket pings, and Microsoft's endpoints (for the other clouds)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field

from bot.config.fields import SecretText, Section, parsed
from bot.config.parsers import CONTROL, parse_guid, parse_http_url, with_slash
from bot.config.problems import refuse, shown

DEFAULT_TEAMS_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
DEFAULT_TEAMS_OPENID_METADATA_URL = (
    "https://login.botframework.com/v1/.well-known/openidconfiguration"
)
DEFAULT_TEAMS_LOGIN_URL = "https://login.microsoftonline.com"
REGISTRATION = ("TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TEAMS_TENANT_ID")
# A Teams channel's conversation id: 19:<id>@thread.tacv2 (older teams: @thread.skype).
_TEAMS_CHANNEL_ID = re.compile(r"19:[A-Za-z0-9_\-.]+@thread\.(?:tacv2|skype)")


def _parse_teams_channel(value: str) -> str:
    if not _TEAMS_CHANNEL_ID.fullmatch(value):
        raise ValueError(value)
    return value


def _parse_teams_mention(value: str) -> str:
    word = value.lower().removeprefix("@")
    if word in ("channel", "team"):
        return word
    if CONTROL.search(value) or any(ch.isspace() for ch in value) or len(value) > 200:
        raise ValueError(value)
    return value


def _endpoint(finish: Callable[[str], str]) -> BeforeValidator:
    """One of Microsoft's endpoints: https only, then `finish`ed (a trailing slash or none)."""

    def validate(value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            url = parse_http_url(value)
        except ValueError:
            raise refuse(
                "must be an https:// URL (http:// only for this machine), got " + shown(value)
            ) from None
        if urlsplit(url).scheme != "https":
            raise refuse(
                "must be an https:// URL: Microsoft's endpoints, and the tokens they carry, are "
                "only reached over TLS"
            )
        return finish(url)

    return BeforeValidator(validate)


def _as_is(url: str) -> str:
    return url


def _without_slash(url: str) -> str:
    return url.rstrip("/")


AppId = Annotated[str, parsed(parse_guid, "must be the bot's Microsoft App ID (a GUID)")]
TenantId = Annotated[str, parsed(parse_guid, "must be your Microsoft Entra tenant ID (a GUID)")]
TeamsChannelId = Annotated[
    str,
    parsed(
        _parse_teams_channel,
        "must be a Teams channel's conversation ID such as 19:abc…@thread.tacv2 (Get link to "
        "channel; the part after /channel/, URL-decoded)",
    ),
]
TeamsMention = Annotated[
    str, parsed(_parse_teams_mention, "must be channel, team, or a Teams tag ID")
]


class TeamsSection(Section):
    """Microsoft Teams: the bot's registration, its technician channel, its mention, endpoints."""

    teams_app_id: AppId | None = Field(default=None, validation_alias="TEAMS_APP_ID")
    teams_app_password: SecretText | None = Field(
        default=None, validation_alias="TEAMS_APP_PASSWORD"
    )
    teams_tenant_id: TenantId | None = Field(default=None, validation_alias="TEAMS_TENANT_ID")
    teams_tech_channel: TeamsChannelId | None = Field(
        default=None, validation_alias="TEAMS_TECH_CHANNEL"
    )
    # channel | team | a tag id
    teams_critical_mention: TeamsMention = Field(
        default="channel", validation_alias="TEAMS_CRITICAL_MENTION"
    )
    teams_service_url: Annotated[str, _endpoint(with_slash)] = Field(
        default=DEFAULT_TEAMS_SERVICE_URL, validation_alias="TEAMS_SERVICE_URL"
    )
    teams_openid_metadata_url: Annotated[str, _endpoint(_as_is)] = Field(
        default=DEFAULT_TEAMS_OPENID_METADATA_URL, validation_alias="TEAMS_OPENID_METADATA_URL"
    )
    teams_login_url: Annotated[str, _endpoint(_without_slash)] = Field(
        default=DEFAULT_TEAMS_LOGIN_URL, validation_alias="TEAMS_LOGIN_URL"
    )

    @property
    def teams_on(self) -> bool:
        """The Teams bot runs: its registration (app id, password, tenant) is complete."""
        return bool(self.teams_app_id and self.teams_app_password and self.teams_tenant_id)
