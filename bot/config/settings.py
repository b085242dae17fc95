"""Typed settings for the keys `.env.example` documents, built from a mapping.

Never reads the environment itself (the CLI passes `os.environ`); imports only the standard library,
`bot.config.alerts` and `bot.domain.business_hours` (themselves standard-library only).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import time, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.alerts import DEDUP_MODES, ChatAlertRules
from bot.domain.business_hours import HOURS_EXAMPLE, Span, parse_hours, parse_span

__all__ = [
    "KEYS",
    "SECRET_KEYS",
    "ConfigError",
    "FrozenMap",
    "Secret",
    "Settings",
    "SlaTarget",
    "SmtpSettings",
    "parse_delay",
    "parse_duration",
]

# Every key `Settings.from_mapping` reads, in the order `.env.example` documents them.
KEYS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "TICKETBOT_TECH_CHANNEL",
    "TICKETBOT_ALERTS_CHANNEL",
    "TICKETBOT_MANAGERS",
    "TICKETBOT_TECHNICIANS",
    "TICKETBOT_CRITICAL_MENTION",
    "TEAMS_APP_ID",
    "TEAMS_APP_PASSWORD",
    "TEAMS_TENANT_ID",
    "TEAMS_TECH_CHANNEL",
    "TEAMS_CRITICAL_MENTION",
    "TEAMS_SERVICE_URL",
    "TEAMS_OPENID_METADATA_URL",
    "TEAMS_LOGIN_URL",
    "DATABASE_URL",
    "SMTP_URL",
    "EMAIL_FROM",
    "ALERT_WEBHOOK_TOKEN",
    "TICKETBOT_ALERT_DEDUP",
    "TICKETBOT_ALERT_SEVERITY_MAP",
    "TICKETBOT_ALERT_STORM_THRESHOLD",
    "TICKETBOT_ALERT_FIRING_PATTERN",
    "TICKETBOT_ALERT_RESOLVED_PATTERN",
    "TICKETBOT_ALERT_BOTS",
    "TICKETBOT_MEMBERS_REFRESH",
    "TICKETBOT_OUTBOX_LEASE",
    "TICKETBOT_REPING_AFTER",
    "TICKETBOT_REMIND_AFTER",
    "TICKETBOT_REMIND_AFTER_HIGH",
    "TICKETBOT_REMIND_AFTER_MEDIUM",
    "TICKETBOT_REMIND_AFTER_LOW",
    "TICKETBOT_CONFIRM_REMIND_AFTER",
    "TICKETBOT_AUTO_CLOSE_AFTER",
    "TICKETBOT_TIMEZONE",
    "TICKETBOT_BUSINESS_HOURS",
    "TICKETBOT_SLA_CRITICAL",
    "TICKETBOT_SLA_HIGH",
    "TICKETBOT_SLA_MEDIUM",
    "TICKETBOT_SLA_LOW",
    "TICKETBOT_DIGEST_AT",
    "TICKETBOT_MONTHLY_REPORT",
    "METRICS_TOKEN",
    "LOG_FORMAT",
    "HOST",
    "PORT",
)
# Values never echoed in an error message (the URLs can carry a password).
SECRET_KEYS = frozenset(
    {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "TEAMS_APP_PASSWORD",
        "DATABASE_URL",
        "SMTP_URL",
        "ALERT_WEBHOOK_TOKEN",
        "METRICS_TOKEN",
    }
)

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///ticketbot.db"
DEFAULT_CRITICAL_MENTION = "here"
DEFAULT_ALERT_DEDUP = "group"
DEFAULT_ALERT_STORM_THRESHOLD = 10
ALERT_STORM_THRESHOLD_MAX = 100_000
PRIORITIES = ("low", "medium", "high", "critical")
BOT_NAME_MAX = 80  # Slack's limit for a bot's username
DEFAULT_MEMBERS_REFRESH = timedelta(minutes=10)
DEFAULT_OUTBOX_LEASE = timedelta(seconds=30)
# Escalation timers; a zero delay (`0`) turns a reminder or the auto-close off.
DEFAULT_REPING_AFTER = timedelta(minutes=5)
DEFAULT_REMIND_AFTER = timedelta(minutes=30)  # critical
DEFAULT_REMIND_AFTER_HIGH = timedelta(hours=2)
DEFAULT_REMIND_AFTER_MEDIUM = timedelta(days=1)
DEFAULT_REMIND_AFTER_LOW = timedelta(days=3)
DEFAULT_CONFIRM_REMIND_AFTER = timedelta(days=1)
DEFAULT_AUTO_CLOSE_AFTER = timedelta(days=5)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_TEAMS_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
DEFAULT_TEAMS_OPENID_METADATA_URL = (
    "https://login.botframework.com/v1/.well-known/openidconfiguration"
)
DEFAULT_TEAMS_LOGIN_URL = "https://login.microsoftonline.com"
DEFAULT_TEAMS_CRITICAL_MENTION = "channel"
DEFAULT_PORT = 3000
DEFAULT_TIMEZONE = "UTC"
DEFAULT_BUSINESS_HOURS = "Mon-Fri 08:00-18:00"
DEFAULT_DIGEST_AT = time(8, 30)
DEFAULT_MONTHLY_REPORT_AT = time(7, 0)  # `on`: the 1st of the month at 07:00 local

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]+")
_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_USER_GROUP_ID = re.compile(r"S[A-Z0-9]+")
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# A Teams channel's conversation id: 19:<id>@thread.tacv2 (older teams: @thread.skype).
_TEAMS_CHANNEL_ID = re.compile(r"19:[A-Za-z0-9_\-.]+@thread\.(?:tacv2|skype)")
_DURATION = re.compile(r"([0-9]{1,15})([smhd])")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_SQLALCHEMY_URL = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\+[A-Za-z0-9_]+)?://")
_HTTP_URL = re.compile(r"https?://[^/?#\s]+(/\S*)?", re.IGNORECASE)
_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[^@\s<>()\[\]\\,;:\"]+@{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*")
_NAMED_EMAIL = re.compile(r"(?P<name>[^<>]*)<(?P<address>[^<>]*)>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_LOOPBACK_NAMES = "127.0.0.1, another 127.x.x.x address, ::1 or localhost"
_SMTP_FORMAT = "smtp://[user:pass@]host:port[?starttls=true] or smtps://[user:pass@]host:port"

_T = TypeVar("_T")


class FrozenMap(Mapping[str, str]):
    """An immutable, hashable `str → str` mapping, so that `Settings` stays frozen and hashable."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


DEFAULT_ALERT_SEVERITY_MAP = FrozenMap({})  # overrides only: bot.alerts.severity has the table
DEFAULT_ALERT_CHAT_RULES = ChatAlertRules()


class Secret:
    """A string hidden from `repr`, `str`, f-strings and logs; `reveal()` hands it to the SDK."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # os.environ may hold lone surrogates (undecodable bytes); keep them comparable.
        mine = self._value.encode("utf-8", "surrogatepass")
        return hmac.compare_digest(mine, other._value.encode("utf-8", "surrogatepass"))

    def __hash__(self) -> int:
        return hash((Secret, self._value))


class ConfigError(Exception):
    """Missing or invalid configuration: `problems` has one line each, never with a secret."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(self.problems)


@dataclass(frozen=True)
class SlaTarget:
    """A priority's SLA: first response and resolution, in business time or business days
    (critical tickets: plain time, 24/7)."""

    response: Span
    resolve: Span

    def __str__(self) -> str:
        return f"{self.response}/{self.resolve}"


def parse_sla_target(text: str) -> SlaTarget:
    """`"15m/4h"`: first response / resolution, each like 90s, 15m, 4h or 3d."""
    response, sep, resolve = text.partition("/")
    if not sep:
        raise ValueError(text)
    return SlaTarget(parse_span(response), parse_span(resolve))


# Per priority (the TICKETBOT_SLA_<PRIORITY> keys), most urgent first.
DEFAULT_SLA: tuple[tuple[str, SlaTarget], ...] = tuple(
    (priority, parse_sla_target(text))
    for priority, text in (
        ("critical", "15m/4h"),
        ("high", "1h/8h"),
        ("medium", "4h/3d"),
        ("low", "1d/10d"),
    )
)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: Secret | None = None
    starttls: bool = False
    ssl: bool = False  # smtps:// (implicit TLS, smtplib.SMTP_SSL)

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse `SMTP_URL`; its `ValueError` never quotes the URL (it may hold a password)."""
        smtp, problems = _parse_smtp_url(url)
        if smtp is None:
            raise ValueError("; ".join(problems))
        return smtp


@dataclass(frozen=True)
class Settings:
    """The validated configuration; build it with `from_mapping`. Defaults are the contract's."""

    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    tech_channel: str | None = None
    alerts_channel: str | None = None
    # Slack user ids, Teams (Entra) object ids or email addresses.
    managers: tuple[str, ...] = ()
    technicians: tuple[str, ...] = ()  # () means: the members of the technician channel(s)
    critical_mention: str = DEFAULT_CRITICAL_MENTION
    teams_app_id: str | None = None
    teams_app_password: Secret | None = None
    teams_tenant_id: str | None = None
    teams_tech_channel: str | None = None
    teams_critical_mention: str = DEFAULT_TEAMS_CRITICAL_MENTION  # channel | team | a tag id
    teams_service_url: str = DEFAULT_TEAMS_SERVICE_URL
    teams_openid_metadata_url: str = DEFAULT_TEAMS_OPENID_METADATA_URL
    teams_login_url: str = DEFAULT_TEAMS_LOGIN_URL
    database_url: str = DEFAULT_DATABASE_URL
    smtp: SmtpSettings | None = None
    email_from: str | None = None
    alert_webhook_token: Secret | None = None
    alert_dedup: str = DEFAULT_ALERT_DEDUP  # "group" | "fingerprint"
    alert_severity_map: Mapping[str, str] = DEFAULT_ALERT_SEVERITY_MAP  # severity → priority
    alert_storm_threshold: int = DEFAULT_ALERT_STORM_THRESHOLD  # new alert tickets per minute
    alert_chat_rules: ChatAlertRules = DEFAULT_ALERT_CHAT_RULES
    members_refresh: timedelta = DEFAULT_MEMBERS_REFRESH  # re-reading the technician channel
    outbox_lease: timedelta = DEFAULT_OUTBOX_LEASE  # a killed process's claimed rows wait this long
    reping_after: timedelta = DEFAULT_REPING_AFTER  # an unassigned critical ticket pings again
    # A silent assignee is reminded after this (escalated at twice it); timedelta(0): never.
    remind_after: timedelta = DEFAULT_REMIND_AFTER
    remind_after_high: timedelta = DEFAULT_REMIND_AFTER_HIGH
    remind_after_medium: timedelta = DEFAULT_REMIND_AFTER_MEDIUM
    remind_after_low: timedelta = DEFAULT_REMIND_AFTER_LOW
    confirm_remind_after: timedelta = DEFAULT_CONFIRM_REMIND_AFTER  # timedelta(0): never
    auto_close_after: timedelta = DEFAULT_AUTO_CLOSE_AFTER  # timedelta(0): never
    timezone: str = DEFAULT_TIMEZONE  # the MSP's (digest time, its default business hours)
    business_hours: str = DEFAULT_BUSINESS_HOURS  # for tickets without a client's own hours
    sla: tuple[tuple[str, SlaTarget], ...] = DEFAULT_SLA  # (priority, target)
    digest_at: time | None = DEFAULT_DIGEST_AT  # local time in `timezone`; None: no digest
    # The monthly report emailed to each client's contact on the 1st at this local time.
    monthly_report_at: time | None = None  # None: off
    metrics_token: Secret | None = None  # unset: /metrics is open
    log_format: str = "text"  # text (human) | json (one object per line)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    def sla_target(self, priority: str) -> SlaTarget:
        return dict(self.sla)[priority]

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def slack_on(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def teams_on(self) -> bool:
        """The Teams bot runs: its registration (app id, password, tenant) is complete."""
        return bool(self.teams_app_id and self.teams_app_password and self.teams_tenant_id)

    @property
    def critical_mention_syntax(self) -> str:
        """The mrkdwn that pings for a critical ticket: `<!here>`, `<!channel>`, `<!subteam^S…>`."""
        if self.critical_mention in ("here", "channel"):
            return f"<!{self.critical_mention}>"
        return f"<!subteam^{self.critical_mention}>"

    @property
    def email_from_address(self) -> str | None:
        """The bare address of `email_from` (which may be `Display Name <address>`)."""
        if self.email_from is None:
            return None
        named = _NAMED_EMAIL.fullmatch(self.email_from)
        return named.group("address").strip() if named else self.email_from

    def start_warnings(self) -> list[str]:
        """Accepted but risky choices, which `ticketbot run` logs as it starts."""
        warnings = []
        if self.alerts_channel is not None and not self.alert_chat_rules.bots:
            warnings.append(
                "TICKETBOT_ALERTS_CHANNEL is set without TICKETBOT_ALERT_BOTS: any bot in that "
                "channel can raise critical tickets; set TICKETBOT_ALERT_BOTS to your monitoring "
                "bots' IDs or names to accept only theirs"
            )
        return warnings

    def __repr__(self) -> str:
        # The database URL may carry a password: show it redacted.
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "database_url":
                value = _redact_url(value)
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @classmethod
    def from_mapping(cls, env: Mapping[str, str | None], *, require_slack: bool = True) -> Settings:
        """Validate `env` (`os.environ` after `load_dotenv(override=False)`, or `dotenv_values()`).

        `require_slack=False` is for commands that do not talk to Slack (`demo`, `db upgrade`,
        `clients`, `manifest`): the Slack keys become optional but are still checked when given.
        Values are stripped; empty ones count as unset; keys not in `KEYS` are ignored.
        Raises `ConfigError` listing every problem at once.
        """
        problems: list[str] = []
        get = _Reader(env, problems)

        teams = _read_teams(get, problems)
        # An MSP on Teams only sets no Slack keys at all; any Slack key means Slack is wanted.
        slack_wanted = any(get.raw(key) for key in _SLACK_KEYS)
        require_chat = require_slack
        require_slack = require_chat and (slack_wanted or not teams["teams_app_id"])

        bot_token = get.secret("SLACK_BOT_TOKEN")
        signing_secret = get.secret("SLACK_SIGNING_SECRET")
        app_token = get.secret("SLACK_APP_TOKEN")
        if bot_token is None:
            if require_slack:
                problems.append(
                    "SLACK_BOT_TOKEN is required (a bot token starting with xoxb-, "
                    "from OAuth & Permissions > Bot User OAuth Token); or, for Microsoft Teams "
                    "only, set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID instead"
                )
        elif not bot_token.reveal().startswith("xoxb-"):
            problems.append(
                "SLACK_BOT_TOKEN must start with xoxb- (OAuth & Permissions > Bot User OAuth Token)"
                + _token_kind_hint(bot_token.reveal())
            )
        if app_token is not None and not app_token.reveal().startswith("xapp-"):
            problems.append(
                "SLACK_APP_TOKEN must start with xapp- (Basic Information > App-Level Tokens, "
                "scope connections:write)" + _token_kind_hint(app_token.reveal())
            )
        if signing_secret is None and app_token is None and require_slack:
            # Bolt builds its SignatureVerifier lazily: without it every HTTP request gets a 500.
            problems.append(
                "SLACK_SIGNING_SECRET is required in HTTP mode (Basic Information > Signing "
                "Secret); or set SLACK_APP_TOKEN to use Socket Mode"
            )
        if require_slack and "SLACK_CLIENT_ID" in env and "SLACK_CLIENT_SECRET" in env:
            # bolt App(): both present (even empty) → OAuthSettings; the bot token is ignored.
            problems.append(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must not be set: ticketbot is a "
                "single-workspace app, and Bolt would switch to OAuth installs and ignore "
                "SLACK_BOT_TOKEN"
            )

        slack_api_url = get.parsed(
            "SLACK_API_URL",
            _parse_http_url,
            "must be an http(s) URL such as https://slack.com/api/",
        )
        if slack_api_url is not None and not _https_or_loopback(slack_api_url):
            problems.append(
                "SLACK_API_URL must be an https:// URL unless its host is this machine "
                f"({_LOOPBACK_NAMES}): over http:// the bot token would cross the network in clear"
            )
        tech_channel = get.parsed("TICKETBOT_TECH_CHANNEL", _parse_channel_id, _CHANNEL_EXPECTED)
        if (
            tech_channel is None
            and require_slack
            and "TICKETBOT_TECH_CHANNEL" not in get.invalid
            and (slack_wanted or not teams["teams_tech_channel"])
        ):
            problems.append(
                "TICKETBOT_TECH_CHANNEL is required (the technician channel's ID, C… or G…, "
                "from the channel's details in Slack)"
            )
        alerts_channel = get.parsed(
            "TICKETBOT_ALERTS_CHANNEL", _parse_channel_id, _CHANNEL_EXPECTED
        )
        managers = get.user_ids("TICKETBOT_MANAGERS")
        if not managers and require_slack and "TICKETBOT_MANAGERS" not in get.invalid:
            problems.append(
                "TICKETBOT_MANAGERS is required (comma-separated Slack user IDs (U… or W…), "
                "Teams object IDs or email addresses of the people allowed to assign tickets)"
            )
        technicians = get.user_ids("TICKETBOT_TECHNICIANS")
        if teams["teams_tech_channel"] and not teams["teams_app_id"]:
            if not any(get.raw(key) for key in _TEAMS_REGISTRATION):
                problems.append(
                    "TEAMS_TECH_CHANNEL is set but the Teams bot is not: set TEAMS_APP_ID, "
                    "TEAMS_APP_PASSWORD and TEAMS_TENANT_ID too"
                )
        elif (
            require_chat
            and teams["teams_app_id"]
            and not slack_wanted
            and not teams["teams_tech_channel"]
            and "TEAMS_TECH_CHANNEL" not in get.invalid
        ):
            problems.append(
                "TEAMS_TECH_CHANNEL is required when technicians work in Teams (no Slack settings "
                "are given): the technician channel's conversation ID, 19:…@thread.tacv2"
            )
        critical_mention = get.parsed(
            "TICKETBOT_CRITICAL_MENTION",
            _parse_critical_mention,
            "must be here, channel, or a Slack user group ID (S…)",
        )

        database_url = get.parsed(
            "DATABASE_URL",
            _parse_database_url,
            "must be a SQLAlchemy URL such as sqlite:///ticketbot.db or "
            "postgresql+psycopg://user:password@host/dbname",
        )
        smtp_url = get.raw("SMTP_URL")
        smtp = None
        if smtp_url is not None:
            smtp, smtp_problems = _parse_smtp_url(smtp_url)
            problems.extend(f"SMTP_URL {problem}" for problem in smtp_problems)
        email_from = get.parsed(
            "EMAIL_FROM",
            _parse_email_from,
            "must be one email address such as helpdesk@msp.example or "
            "'MSP Helpdesk <helpdesk@msp.example>', on one line",
        )
        if email_from is None and smtp_url is not None and "EMAIL_FROM" not in get.invalid:
            problems.append(
                "EMAIL_FROM is required when SMTP_URL is set (the sender address, "
                "e.g. helpdesk@msp.example)"
            )

        alert_webhook_token = get.secret("ALERT_WEBHOOK_TOKEN")
        if alert_webhook_token is not None and _CONTROL.search(alert_webhook_token.reveal()):
            problems.append("ALERT_WEBHOOK_TOKEN must not contain control characters")
        alert_dedup = get.parsed(
            "TICKETBOT_ALERT_DEDUP",
            _parse_alert_dedup,
            "must be group (one ticket per Alertmanager group) or fingerprint (one per alert)",
        )
        alert_severity_map = get.parsed(
            "TICKETBOT_ALERT_SEVERITY_MAP",
            _parse_severity_map,
            "must be comma-separated severity=priority pairs, each severity once, with a "
            "priority of low, medium, high or critical, such as warning=high,info=medium",
        )
        alert_storm_threshold = get.parsed(
            "TICKETBOT_ALERT_STORM_THRESHOLD",
            _parse_storm_threshold,
            f"must be a whole number from 1 to {ALERT_STORM_THRESHOLD_MAX}",
        )
        firing_pattern = get.pattern("TICKETBOT_ALERT_FIRING_PATTERN")
        resolved_pattern = get.pattern("TICKETBOT_ALERT_RESOLVED_PATTERN")
        alert_bots = get.parsed(
            "TICKETBOT_ALERT_BOTS",
            _parse_bot_names,
            "must be comma-separated bot IDs (B…), app IDs (A…), bot user IDs or bot user "
            f"names, each on one line and at most {BOT_NAME_MAX} characters",
        )
        alert_chat_rules = ChatAlertRules(
            firing=_default(firing_pattern, DEFAULT_ALERT_CHAT_RULES.firing),
            resolved=_default(resolved_pattern, DEFAULT_ALERT_CHAT_RULES.resolved),
            bots=_default(alert_bots, DEFAULT_ALERT_CHAT_RULES.bots),
        )

        duration_expected = "must be a positive duration such as 90s, 5m, 2h or 1d"
        members_refresh = get.parsed("TICKETBOT_MEMBERS_REFRESH", parse_duration, duration_expected)
        outbox_lease = get.parsed("TICKETBOT_OUTBOX_LEASE", parse_duration, duration_expected)
        reping_after = get.parsed("TICKETBOT_REPING_AFTER", parse_duration, duration_expected)
        delay_expected = "must be a duration such as 90s, 5m, 2h or 1d, or 0 to turn it off"
        delays = {
            key: get.parsed(f"TICKETBOT_{key.upper()}", parse_delay, delay_expected)
            for key in (
                "remind_after",
                "remind_after_high",
                "remind_after_medium",
                "remind_after_low",
                "confirm_remind_after",
                "auto_close_after",
            )
        }
        timezone = get.parsed(
            "TICKETBOT_TIMEZONE", _parse_timezone, "must be a time zone such as Europe/Berlin"
        )
        business_hours = get.parsed(
            "TICKETBOT_BUSINESS_HOURS", _parse_hours, f"must be opening hours like {HOURS_EXAMPLE}"
        )
        sla = tuple(
            (
                priority,
                _default(
                    get.parsed(
                        f"TICKETBOT_SLA_{priority.upper()}",
                        parse_sla_target,
                        "must be first response/resolution, each a duration such as 15m, 4h "
                        "(business time) or 3d (business days), like 1h/8h",
                    ),
                    default,
                ),
            )
            for priority, default in DEFAULT_SLA
        )
        digest_at = get.parsed(
            "TICKETBOT_DIGEST_AT",
            _parse_digest_at,
            "must be a local time such as 08:30 (in TICKETBOT_TIMEZONE), or off",
        )
        monthly_report = get.parsed(
            "TICKETBOT_MONTHLY_REPORT",
            _parse_monthly_report,
            "must be on (the 1st of the month at 07:00 in TICKETBOT_TIMEZONE), a local time "
            "such as 06:30 (on the 1st), or off",
        )
        metrics_token = get.secret("METRICS_TOKEN")
        log_format = get.parsed("LOG_FORMAT", _parse_log_format, LOG_FORMAT_PROBLEM)
        if metrics_token is not None and _CONTROL.search(metrics_token.reveal()):
            problems.append("METRICS_TOKEN must not contain control characters")
        host = get.parsed("HOST", _parse_host, "must be a host name or IP address without spaces")
        port = get.parsed("PORT", _parse_port, "must be a whole number from 1 to 65535")

        if problems:
            raise ConfigError(problems)
        return cls(
            slack_bot_token=bot_token,
            slack_signing_secret=signing_secret,
            slack_app_token=app_token,
            slack_api_url=_with_slash(_default(slack_api_url, DEFAULT_SLACK_API_URL)),
            tech_channel=tech_channel,
            alerts_channel=alerts_channel,
            managers=managers,
            technicians=technicians,
            critical_mention=_default(critical_mention, DEFAULT_CRITICAL_MENTION),
            **teams,
            database_url=_default(database_url, DEFAULT_DATABASE_URL),
            smtp=smtp,
            email_from=email_from,
            alert_webhook_token=alert_webhook_token,
            alert_dedup=_default(alert_dedup, DEFAULT_ALERT_DEDUP),
            alert_severity_map=_default(alert_severity_map, DEFAULT_ALERT_SEVERITY_MAP),
            alert_storm_threshold=_default(alert_storm_threshold, DEFAULT_ALERT_STORM_THRESHOLD),
            alert_chat_rules=alert_chat_rules,
            members_refresh=_default(members_refresh, DEFAULT_MEMBERS_REFRESH),
            outbox_lease=_default(outbox_lease, DEFAULT_OUTBOX_LEASE),
            reping_after=_default(reping_after, DEFAULT_REPING_AFTER),
            remind_after=_default(delays["remind_after"], DEFAULT_REMIND_AFTER),
            remind_after_high=_default(delays["remind_after_high"], DEFAULT_REMIND_AFTER_HIGH),
            remind_after_medium=_default(
                delays["remind_after_medium"], DEFAULT_REMIND_AFTER_MEDIUM
            ),
            remind_after_low=_default(delays["remind_after_low"], DEFAULT_REMIND_AFTER_LOW),
            confirm_remind_after=_default(
                delays["confirm_remind_after"], DEFAULT_CONFIRM_REMIND_AFTER
            ),
            auto_close_after=_default(delays["auto_close_after"], DEFAULT_AUTO_CLOSE_AFTER),
            timezone=_default(timezone, DEFAULT_TIMEZONE),
            business_hours=_default(business_hours, DEFAULT_BUSINESS_HOURS),
            sla=sla,
            digest_at=DEFAULT_DIGEST_AT if digest_at is None else digest_at.at,
            monthly_report_at=None if monthly_report is None else monthly_report.at,
            metrics_token=metrics_token,
            log_format=_default(log_format, "text"),
            host=_default(host, DEFAULT_HOST),
            port=_default(port, DEFAULT_PORT),
        )


def parse_duration(text: str) -> timedelta:
    """`"90s"`, `"5m"`, `"2h"`, `"1d"` → a positive `timedelta`; else a plain `ValueError`."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"not a duration: {_shown(text)} (expected a whole number and a unit s, m, h or d, "
            "such as 90s, 5m, 2h or 1d)"
        )
    amount = int(match.group(1))
    if amount == 0:
        raise ValueError(f"not a positive duration: {_shown(text)}")
    try:
        return timedelta(**{_DURATION_UNITS[match.group(2)]: amount})
    except OverflowError:
        raise ValueError(f"duration too large: {_shown(text)}") from None


def parse_delay(text: str) -> timedelta:
    """A duration as `parse_duration` reads it, or `"0"` → `timedelta(0)` (turned off)."""
    if text.strip() == "0":
        return timedelta(0)
    return parse_duration(text)


class _Reader:
    """Reads stripped values from the mapping and records one problem per bad key."""

    def __init__(self, env: Mapping[str, str | None], problems: list[str]) -> None:
        self._env = env
        self._problems = problems
        self.invalid: set[str] = set()

    def raw(self, key: str) -> str | None:
        value = self._env.get(key)
        if value is None:
            return None
        return value.strip() or None

    def secret(self, key: str) -> Secret | None:
        value = self.raw(key)
        return None if value is None else Secret(value)

    def parsed(self, key: str, parse: Callable[[str], _T], expected: str) -> _T | None:
        """`parse(value)`, or None if unset; a `ValueError` records "KEY expected, got 'value'"."""
        value = self.raw(key)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError:
            self.invalid.add(key)
            if key in SECRET_KEYS:
                self._problems.append(f"{key} {expected}")
            else:
                self._problems.append(f"{key} {expected}, got {_shown(value)}")
            return None

    def pattern(self, key: str) -> re.Pattern[str] | None:
        """A compiled regular expression, or None if unset; never one that matches empty text."""
        value = self.raw(key)
        if value is None:
            return None
        try:
            compiled = re.compile(value)
        except (re.error, OverflowError, RecursionError) as e:
            reason = "too deeply nested" if isinstance(e, RecursionError) else str(e)
            reason = "".join(ch if ch.isprintable() else "?" for ch in reason)
            problem = f"must be a valid Python regular expression ({reason})"
        else:
            if compiled.search("") is None:
                return compiled
            problem = "must not match empty text (every bot message would count)"
        self.invalid.add(key)
        self._problems.append(f"{key} {problem}, got {_shown(value)}")
        return None

    def user_ids(self, key: str) -> tuple[str, ...]:
        """Slack user ids, Teams (Entra) object ids or email addresses (stored lower-case)."""
        value = self.raw(key)
        if value is None:
            return ()
        items = tuple(
            dict.fromkeys(_person_id(item.strip()) for item in value.split(",") if item.strip())
        )
        bad = [
            item
            for item in items
            if not (_USER_ID.fullmatch(item) or _GUID.fullmatch(item) or _EMAIL.fullmatch(item))
        ]
        if bad:
            self.invalid.add(key)
            self._problems.append(
                f"{key} must be comma-separated Slack user IDs (U… or W…, capital letters and "
                f"digits, from a profile's ⋮ > Copy member ID), Teams object IDs (GUIDs) or email "
                f"addresses, got " + ", ".join(_shown(item) for item in bad)
            )
            return ()
        return items


_SLACK_KEYS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "TICKETBOT_TECH_CHANNEL",
)
_TEAMS_REGISTRATION = ("TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TEAMS_TENANT_ID")


def _person_id(item: str) -> str:
    """Emails and GUIDs compare case-insensitively; Slack ids are upper-case already."""
    return item.lower() if "@" in item or _GUID.fullmatch(item) else item


def _read_teams(get: _Reader, problems: list[str]) -> dict[str, Any]:
    """The TEAMS_* settings as Settings fields; the registration is all three keys or none."""
    app_id = get.parsed("TEAMS_APP_ID", _parse_guid, "must be the bot's Microsoft App ID (a GUID)")
    password = get.secret("TEAMS_APP_PASSWORD")
    tenant = get.parsed(
        "TEAMS_TENANT_ID", _parse_guid, "must be your Microsoft Entra tenant ID (a GUID)"
    )
    given = [key for key in _TEAMS_REGISTRATION if get.raw(key)]
    if given and len(given) < len(_TEAMS_REGISTRATION):
        missing = [key for key in _TEAMS_REGISTRATION if key not in given]
        problems.append(
            f"{' and '.join(missing)} must be set too: the Teams bot needs its app ID, its client "
            "secret and its tenant ID (Azure Bot > Configuration), or none of them"
        )
    tech_channel = get.parsed(
        "TEAMS_TECH_CHANNEL",
        _parse_teams_channel,
        "must be a Teams channel's conversation ID such as 19:abc…@thread.tacv2 (Get link to "
        "channel; the part after /channel/, URL-decoded)",
    )
    mention = get.parsed(
        "TEAMS_CRITICAL_MENTION",
        _parse_teams_mention,
        "must be channel, team, or a Teams tag ID",
    )
    url_expected = "must be an https:// URL (http:// only for this machine)"
    urls: dict[str, str | None] = {}
    for key in ("TEAMS_SERVICE_URL", "TEAMS_OPENID_METADATA_URL", "TEAMS_LOGIN_URL"):
        url = get.parsed(key, _parse_http_url, url_expected)
        if url is not None and urlsplit(url).scheme != "https":
            problems.append(
                f"{key} must be an https:// URL: Microsoft's endpoints, and the tokens they "
                "carry, are only reached over TLS"
            )
        urls[key] = url
    return {
        "teams_app_id": app_id if len(given) == len(_TEAMS_REGISTRATION) else None,
        "teams_app_password": password if len(given) == len(_TEAMS_REGISTRATION) else None,
        "teams_tenant_id": tenant if len(given) == len(_TEAMS_REGISTRATION) else None,
        "teams_tech_channel": tech_channel,
        "teams_critical_mention": _default(mention, DEFAULT_TEAMS_CRITICAL_MENTION),
        "teams_service_url": _with_slash(
            _default(urls["TEAMS_SERVICE_URL"], DEFAULT_TEAMS_SERVICE_URL)
        ),
        "teams_openid_metadata_url": _default(
            urls["TEAMS_OPENID_METADATA_URL"], DEFAULT_TEAMS_OPENID_METADATA_URL
        ),
        "teams_login_url": _default(urls["TEAMS_LOGIN_URL"], DEFAULT_TEAMS_LOGIN_URL).rstrip("/"),
    }


def _parse_guid(value: str) -> str:
    if not _GUID.fullmatch(value):
        raise ValueError(value)
    return value.lower()


def _parse_teams_channel(value: str) -> str:
    if not _TEAMS_CHANNEL_ID.fullmatch(value):
        raise ValueError(value)
    return value


def _parse_teams_mention(value: str) -> str:
    word = value.lower().removeprefix("@")
    if word in ("channel", "team"):
        return word
    if _CONTROL.search(value) or any(ch.isspace() for ch in value) or len(value) > 200:
        raise ValueError(value)
    return value


def _parse_smtp_url(url: str) -> tuple[SmtpSettings | None, list[str]]:
    """The settings, or None and every problem (phrased to follow "SMTP_URL ", never quoting it)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None, [f"must look like {_SMTP_FORMAT}"]
    if parts.scheme not in ("smtp", "smtps"):
        return None, [f"must start with smtp:// or smtps:// ({_SMTP_FORMAT})"]
    problems: list[str] = []
    host = parts.hostname
    if not host:
        problems.append(f"has no host ({_SMTP_FORMAT})")
    try:
        port = parts.port
    except ValueError:
        port = None
        problems.append("has a port that is not a whole number from 1 to 65535")
    else:
        if port == 0:
            problems.append("has a port that is not a whole number from 1 to 65535")
    if parts.path not in ("", "/") or parts.fragment or "#" in url:
        # Usually an unencoded "/" or "#" in the password: the rest of the URL shifted silently.
        problems.append(
            "must not have a path or fragment (percent-encode '/', '#', '?', '@' and ':' "
            "in the user name and password)"
        )
    ssl = parts.scheme == "smtps"
    starttls = False
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name != "starttls":
            problems.append("has an unknown option (only ?starttls=true is understood)")
        elif value.lower() in _TRUE:
            starttls = True
        elif value.lower() not in _FALSE:
            problems.append("has a starttls option that is neither true nor false")
    if ssl and starttls:
        problems.append("cannot combine smtps:// (TLS from the start) with starttls=true")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if (username is None) != (password is None):
        problems.append("must give both a user name and a password, or neither")
    if password is not None and not (ssl or starttls) and host and not _is_loopback(host):
        problems.append(
            "has a password but no TLS, so the password would cross the network in clear: use "
            f"smtps:// or ?starttls=true (plain smtp:// with a password only to {_LOOPBACK_NAMES})"
        )
    if problems or host is None:
        return None, list(dict.fromkeys(problems))
    return SmtpSettings(
        host=host,
        port=port or (465 if ssl else 25),
        username=username,
        password=Secret(password) if password is not None else None,
        starttls=starttls,
        ssl=ssl,
    ), []


_CHANNEL_EXPECTED = (
    "must be a Slack channel ID (C… or G…, capital letters and digits, from the channel's "
    "details), not its name"
)


def _parse_channel_id(value: str) -> str:
    if not _CHANNEL_ID.fullmatch(value):
        raise ValueError(value)
    return value


LOG_FORMAT_PROBLEM = "must be text (the default) or json (one JSON object per line)"


def _parse_log_format(value: str) -> str:
    mode = value.lower()
    if mode not in ("text", "json"):
        raise ValueError(value)
    return mode


def log_format_of(env: Mapping[str, str | None]) -> str:
    """LOG_FORMAT alone, read before the rest of the settings so that their problems are logged
    in it. Raises ConfigError for a value that is neither text nor json."""
    value = (env.get("LOG_FORMAT") or "").strip()
    if not value:
        return "text"
    try:
        return _parse_log_format(value)
    except ValueError:
        raise ConfigError([f"LOG_FORMAT {LOG_FORMAT_PROBLEM}, got {_shown(value)}"]) from None


def _parse_alert_dedup(value: str) -> str:
    mode = value.lower()
    if mode not in DEDUP_MODES:
        raise ValueError(value)
    return mode


def _parse_severity_map(value: str) -> FrozenMap:
    pairs: dict[str, str] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        severity, sep, priority = (part.strip().lower() for part in item.partition("="))
        if not sep or not severity or priority not in PRIORITIES or severity in pairs:
            raise ValueError(item)
        pairs[severity] = priority
    if not pairs:
        raise ValueError(value)
    return FrozenMap(pairs)


def _parse_storm_threshold(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise ValueError(value)
    if not 1 <= int(value) <= ALERT_STORM_THRESHOLD_MAX:
        raise ValueError(value)
    return int(value)


def _parse_bot_names(value: str) -> frozenset[str]:
    names = [item.strip() for item in value.split(",") if item.strip()]
    if not names or any(_CONTROL.search(n) or len(n) > BOT_NAME_MAX for n in names):
        raise ValueError(value)
    return frozenset(names)


def _parse_critical_mention(value: str) -> str:
    word = value.lower().removeprefix("@").removeprefix("!")
    if word in ("here", "channel"):
        return word
    if _USER_GROUP_ID.fullmatch(value):
        return value
    raise ValueError(value)


def _parse_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(value) from None
    return value


def _parse_hours(value: str) -> str:
    parse_hours(value)
    return value


@dataclass(frozen=True)
class _DigestAt:
    at: time | None  # None: "off"


def _parse_digest_at(value: str) -> _DigestAt:
    if value.lower() == "off":
        return _DigestAt(None)
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value)
    if match is None:
        raise ValueError(value)
    return _DigestAt(time(int(match.group(1)), int(match.group(2))))


def _parse_monthly_report(value: str) -> _DigestAt:
    """off | on | HH:MM (local, on the 1st of the month)."""
    if value.lower() == "on":
        return _DigestAt(DEFAULT_MONTHLY_REPORT_AT)
    return _parse_digest_at(value)


def _parse_database_url(value: str) -> str:
    if not _SQLALCHEMY_URL.match(value):
        raise ValueError(value)
    return value


def _parse_http_url(value: str) -> str:
    if not _HTTP_URL.fullmatch(value) or not urlsplit(value).hostname:
        raise ValueError(value)
    return value


def _https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or _is_loopback(parts.hostname or "")


def _is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: a connection that never leaves this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_email_from(value: str) -> str:
    if _CONTROL.search(value):  # CR/LF would inject headers into every email sent
        raise ValueError(value)
    named = _NAMED_EMAIL.fullmatch(value)
    address = named.group("address").strip() if named else value
    if not _EMAIL.fullmatch(address):
        raise ValueError(value)
    return value


def _parse_host(value: str) -> str:
    if any(ch.isspace() for ch in value) or _CONTROL.search(value):
        raise ValueError(value)
    return value


def _parse_port(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError(value)
    return int(value)


def _token_kind_hint(token: str) -> str:
    # The prefix only names the token type (public knowledge), so saying it leaks nothing.
    if token.startswith("xoxb-"):
        return "; this looks like the bot token, which belongs in SLACK_BOT_TOKEN"
    if token.startswith("xapp-"):
        return "; this looks like an app-level token, which belongs in SLACK_APP_TOKEN"
    if token.startswith("xoxp-"):
        return "; this looks like a user token (xoxp-), which ticketbot does not use"
    return ""


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _default(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _shown(value: str, limit: int = 60) -> str:
    """A non-secret value quoted for an error message: one line (repr escapes CR/LF), bounded."""
    if len(value) > limit:
        value = value[:limit] + "…"
    return repr(value)


def _redact_url(url: str) -> str:
    """`scheme://***@host/path?***`: no user info, no query."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    if "@" in rest:
        rest = "***" + rest[rest.rfind("@") :]
    if "?" in rest:
        rest = rest[: rest.find("?")] + "?***"
    return scheme + sep + rest
