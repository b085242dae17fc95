"""The Slack section: the bot's tokens and Web API URL, its channels, whom a critical ticket
pings."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field

from bot.config.fields import SecretText, Section, parsed
from bot.config.parsers import LOOPBACK_NAMES, https_or_loopback, parse_http_url, with_slash
from bot.config.problems import refuse, shown
from bot.config.secret import Secret

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
CHANNEL_EXPECTED = (
    "must be a Slack channel ID (C… or G…, capital letters and digits, from the channel's "
    "details), not its name"
)
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]+")
_USER_GROUP_ID = re.compile(r"S[A-Z0-9]+")


def _token(prefix: str, problem: str) -> BeforeValidator:
    def validate(value: object) -> object:
        if not isinstance(value, str):
            return value
        if not value.startswith(prefix):
            raise refuse(problem + _token_kind_hint(value))
        return Secret(value)

    return BeforeValidator(validate)


def _token_kind_hint(token: str) -> str:
    # The prefix only names the token type (public knowledge), so saying it leaks nothing.
    if token.startswith("xoxb-"):
        return "; this looks like the bot token, which belongs in SLACK_BOT_TOKEN"
    if token.startswith("xapp-"):
        return "; this looks like an app-level token, which belongs in SLACK_APP_TOKEN"
    if token.startswith("xoxp-"):
        return "; this looks like a user token (xoxp-), which ticketbot does not use"
    return ""


def _api_url(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        url = parse_http_url(value)
    except ValueError:
        raise refuse(
            f"must be an http(s) URL such as https://slack.com/api/, got {shown(value)}"
        ) from None
    if not https_or_loopback(url):
        raise refuse(
            f"must be an https:// URL unless its host is this machine ({LOOPBACK_NAMES}): "
            "over http:// the bot token would cross the network in clear"
        )
    return with_slash(url)


def _parse_channel_id(value: str) -> str:
    if not _CHANNEL_ID.fullmatch(value):
        raise ValueError(value)
    return value


def _parse_critical_mention(value: str) -> str:
    word = value.lower().removeprefix("@").removeprefix("!")
    if word in ("here", "channel"):
        return word
    if _USER_GROUP_ID.fullmatch(value):
        return value
    raise ValueError(value)


BotToken = Annotated[
    Secret,
    _token("xoxb-", "must start with xoxb- (OAuth & Permissions > Bot User OAuth Token)"),
]
AppToken = Annotated[
    Secret,
    _token(
        "xapp-",
        "must start with xapp- (Basic Information > App-Level Tokens, scope connections:write)",
    ),
]
ChannelId = Annotated[str, parsed(_parse_channel_id, CHANNEL_EXPECTED)]
CriticalMention = Annotated[
    str,
    parsed(_parse_critical_mention, "must be here, channel, or a Slack user group ID (S…)"),
]


class SlackSection(Section):
    """Slack: the bot's tokens and Web API URL, its channels, who a critical ticket pings."""

    slack_bot_token: BotToken | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretText | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: AppToken | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: Annotated[str, BeforeValidator(_api_url)] = Field(
        default=DEFAULT_SLACK_API_URL, validation_alias="SLACK_API_URL"
    )
    tech_channel: ChannelId | None = Field(default=None, validation_alias="TICKETBOT_TECH_CHANNEL")
    alerts_channel: ChannelId | None = Field(
        default=None, validation_alias="TICKETBOT_ALERTS_CHANNEL"
    )
    critical_mention: CriticalMention = Field(
        default="here", validation_alias="TICKETBOT_CRITICAL_MENTION"
    )

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def slack_on(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def critical_mention_syntax(self) -> str:
        """The mrkdwn that pings for a critical ticket: `<!here>`, `<!channel>`, `<!subteam^S…>`."""
        if self.critical_mention in ("here", "channel"):
            return f"<!{self.critical_mention}>"
        return f"<!subteam^{self.critical_mention}>"
