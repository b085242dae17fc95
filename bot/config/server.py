"""The server section: where the HTTP server listens, who may read /metrics, the log format
(`log_format_of` reads it alone, before the rest)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field

from bot.config.fields import HeaderToken, Section, parsed
from bot.config.parsers import CONTROL
from bot.config.problems import ConfigError, shown

LOG_FORMAT_PROBLEM = "must be text (the default) or json (one JSON object per line)"


def _parse_host(value: str) -> str:
    if any(ch.isspace() for ch in value) or CONTROL.search(value):
        raise ValueError(value)
    return value


def _parse_port(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError(value)
    return int(value)


def _parse_log_format(value: str) -> str:
    mode = value.lower()
    if mode not in ("text", "json"):
        raise ValueError(value)
    return mode


LogFormat = Annotated[str, parsed(_parse_log_format, LOG_FORMAT_PROBLEM)]
Host = Annotated[str, parsed(_parse_host, "must be a host name or IP address without spaces")]
Port = Annotated[int, parsed(_parse_port, "must be a whole number from 1 to 65535")]


class ServerSection(Section):
    """The HTTP server (Slack events, alert webhooks, /healthz, /metrics) and the logs."""

    metrics_token: HeaderToken | None = Field(default=None, validation_alias="METRICS_TOKEN")
    # text (human) | json (one object per line)
    log_format: LogFormat = Field(default="text", validation_alias="LOG_FORMAT")
    host: Host = Field(default="127.0.0.1", validation_alias="HOST")
    port: Port = Field(default=3000, validation_alias="PORT")


def log_format_of(env: Mapping[str, str | None]) -> str:
    """LOG_FORMAT alone, read before the rest of the settings so that their problems are logged
    in it. Raises ConfigError for a value that is neither text nor json."""
    value = (env.get("LOG_FORMAT") or "").strip()
    if not value:
        return "text"
    try:
        return _parse_log_format(value)
    except ValueError:
        raise ConfigError([f"LOG_FORMAT {LOG_FORMAT_PROBLEM}, got {shown(value)}"]) from None
