"""The rules across keys: what must be given together (Teams' registration, EMAIL_FROM with
SMTP_URL), and what `ticketbot run` needs to talk to technicians (Slack, or Teams alone)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.config.problems import Problem
from bot.config.teams import REGISTRATION

# Any of them means Slack is wanted; an MSP on Teams only sets none of them.
_SLACK_KEYS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "TICKETBOT_TECH_CHANNEL",
)


class Read(Protocol):
    """What the rules read of the settings built from the keys no section refused."""

    @property
    def teams_app_id(self) -> str | None: ...
    @property
    def teams_tech_channel(self) -> str | None: ...
    @property
    def managers(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Given:
    """What the mapping gave: the keys set (not blank), those a section refused, all of it."""

    keys: frozenset[str]
    refused: frozenset[str]
    env: Mapping[str, str | None]

    def has(self, key: str) -> bool:
        return key in self.keys


def rule_problems(settings: Read, given: Given, *, require_chat: bool) -> Iterator[Problem]:
    """Every rule broken. `settings` holds the keys no section refused (the others at their
    defaults); `require_chat`: the command talks to technicians (`run`)."""
    registration = [key for key in REGISTRATION if given.has(key)]
    if registration and len(registration) < len(REGISTRATION):
        missing = [key for key in REGISTRATION if key not in registration]
        yield Problem(
            "TEAMS_TENANT_ID",
            f"{' and '.join(missing)} must be set too: the Teams bot needs its app ID, its client "
            "secret and its tenant ID (Azure Bot > Configuration), or none of them",
        )
    teams_bot = len(registration) == len(REGISTRATION) and settings.teams_app_id is not None
    slack_wanted = any(given.has(key) for key in _SLACK_KEYS)
    if require_chat and (slack_wanted or not teams_bot):
        yield from _slack_problems(settings, given)
    if settings.teams_tech_channel and not teams_bot:
        if not registration:
            yield Problem(
                "TEAMS_TECH_CHANNEL",
                "TEAMS_TECH_CHANNEL is set but the Teams bot is not: set TEAMS_APP_ID, "
                "TEAMS_APP_PASSWORD and TEAMS_TENANT_ID too",
            )
    elif require_chat and teams_bot and not slack_wanted and not given.has("TEAMS_TECH_CHANNEL"):
        yield Problem(
            "TEAMS_TECH_CHANNEL",
            "TEAMS_TECH_CHANNEL is required when technicians work in Teams (no Slack settings "
            "are given): the technician channel's conversation ID, 19:…@thread.tacv2",
        )
    if not given.has("EMAIL_FROM") and given.has("SMTP_URL"):
        yield Problem(
            "EMAIL_FROM",
            "EMAIL_FROM is required when SMTP_URL is set (the sender address, "
            "e.g. helpdesk@msp.example)",
        )


def _slack_problems(settings: Read, given: Given) -> Iterator[Problem]:
    """What Slack needs when technicians work in it (the Slack keys given, or Teams not set up)."""
    if not given.has("SLACK_BOT_TOKEN"):
        yield Problem(
            "SLACK_BOT_TOKEN",
            "SLACK_BOT_TOKEN is required (a bot token starting with xoxb-, "
            "from OAuth & Permissions > Bot User OAuth Token); or, for Microsoft Teams "
            "only, set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID instead",
        )
    if "SLACK_CLIENT_ID" in given.env and "SLACK_CLIENT_SECRET" in given.env:
        # bolt App(): both present (even empty) → OAuthSettings; the bot token is ignored.
        yield Problem(
            "SLACK_BOT_TOKEN",
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must not be set: ticketbot is a "
            "single-workspace app, and Bolt would switch to OAuth installs and ignore "
            "SLACK_BOT_TOKEN",
        )
    if not given.has("SLACK_SIGNING_SECRET") and not given.has("SLACK_APP_TOKEN"):
        # Bolt builds its SignatureVerifier lazily: without it every HTTP request gets a 500.
        yield Problem(
            "SLACK_SIGNING_SECRET",
            "SLACK_SIGNING_SECRET is required in HTTP mode (Basic Information > Signing "
            "Secret); or set SLACK_APP_TOKEN to use Socket Mode",
        )
    if not given.has("TICKETBOT_TECH_CHANNEL") and (
        any(given.has(key) for key in _SLACK_KEYS) or not settings.teams_tech_channel
    ):
        yield Problem(
            "TICKETBOT_TECH_CHANNEL",
            "TICKETBOT_TECH_CHANNEL is required (the technician channel's ID, C… or G…, "
            "from the channel's details in Slack)",
        )
    if not settings.managers and "TICKETBOT_MANAGERS" not in given.refused:
        yield Problem(
            "TICKETBOT_MANAGERS",
            "TICKETBOT_MANAGERS is required (comma-separated Slack user IDs (U… or W…), "
            "Teams object IDs or email addresses of the people allowed to assign tickets)",
        )
