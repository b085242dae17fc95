"""`Settings`: every section in one flat model, built from a mapping with every problem at once.

Never reads the environment itself (the CLI passes `os.environ`); imports no other package of bot
but `bot.domain`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config.alerts import AlertsSection
from bot.config.database import DatabaseSection, redact_url
from bot.config.email import EmailSection
from bot.config.escalation import EscalationSection
from bot.config.people import PeopleSection
from bot.config.problems import ConfigError, Problem, refused
from bot.config.reports import ReportsSection
from bot.config.rules import Given, rule_problems
from bot.config.server import ServerSection
from bot.config.sla import SlaSection
from bot.config.slack import SlackSection
from bot.config.source import MappingSource, key_of
from bot.config.teams import TeamsSection


# Pydantic lists the fields of the last base first: read from the end, the sections run much as
# `.env.example` groups them (Slack first), which gives the order of `KEYS` and of the problems.
class Settings(
    ServerSection,
    AlertsSection,
    EmailSection,
    DatabaseSection,
    TeamsSection,
    ReportsSection,
    SlaSection,
    EscalationSection,
    PeopleSection,
    SlackSection,
    BaseSettings,
):
    """The validated configuration; build it with `from_mapping`. Defaults are the contract's."""

    # The sections' config (frozen, keys or names, no input in errors) holds; defaults are typed.
    model_config = SettingsConfigDict(validate_default=False)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what the caller hands over: never os.environ, .env or secret files by surprise.
        return (init_settings,)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str | None], *, require_slack: bool = True) -> Settings:
        """Validate `env` (`os.environ` after `load_dotenv(override=False)`, or `dotenv_values()`).

        `require_slack=False` is for commands that do not talk to Slack (`demo`, `db upgrade`,
        `clients`, `manifest`): the Slack keys become optional but are still checked when given.
        Values are stripped; empty ones count as unset; keys not in `KEYS` are ignored.
        Raises `ConfigError` listing every problem at once, in the order of `KEYS`.
        """
        given = MappingSource(cls, env)()
        problems: list[Problem] = []
        try:
            settings = cls.model_validate(given)
        except ValidationError as error:
            problems = refused(error)
            # The keys not refused still make settings, which the rules across keys read.
            kept = {key: value for key, value in given.items() if key not in _keys(problems)}
            settings = cls.model_validate(kept)
        seen = Given(frozenset(given), _keys(problems), env)
        problems += rule_problems(settings, seen, require_chat=require_slack)
        if problems:
            raise ConfigError(p.text for p in sorted(problems, key=lambda p: _ORDER[p.key]))
        return settings

    def start_warnings(self) -> list[str]:
        """Accepted but risky choices, which `ticketbot run` logs as it starts."""
        warnings = []
        if self.alerts_channel is not None and not self.alert_bots:
            warnings.append(
                "TICKETBOT_ALERTS_CHANNEL is set without TICKETBOT_ALERT_BOTS: any bot in that "
                "channel can raise critical tickets; set TICKETBOT_ALERT_BOTS to your monitoring "
                "bots' IDs or names to accept only theirs"
            )
        return warnings

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # The database URL may carry a password: show it redacted.
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "database_url" else value


def _keys(problems: list[Problem]) -> frozenset[str]:
    return frozenset(problem.key for problem in problems)


# Every key `Settings.from_mapping` reads.
KEYS = tuple(key_of(name, field) for name, field in Settings.model_fields.items())
_ORDER = {key: position for position, key in enumerate(KEYS)}
