"""The SLA section: the MSP's time zone, its default business hours, and each priority's targets
(`SlaTarget`: first response / resolution)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from bot.config.fields import Section, parsed
from bot.config.parsers import parse_business_hours, parse_timezone
from bot.domain.business_hours import HOURS_EXAMPLE, Span, parse_span


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


Target = Annotated[
    SlaTarget,
    parsed(
        parse_sla_target,
        "must be first response/resolution, each a duration such as 15m, 4h (business time) or "
        "3d (business days), like 1h/8h",
    ),
]
TimeZone = Annotated[str, parsed(parse_timezone, "must be a time zone such as Europe/Berlin")]
BusinessHours = Annotated[
    str, parsed(parse_business_hours, f"must be opening hours like {HOURS_EXAMPLE}")
]


class SlaSection(Section):
    """The MSP's time zone and default business hours, and the SLA targets per priority."""

    # The MSP's zone: its default business hours, the digest's and the monthly report's times.
    timezone: TimeZone = Field(default="UTC", validation_alias="TICKETBOT_TIMEZONE")
    # For tickets without a client's own hours.
    business_hours: BusinessHours = Field(
        default="Mon-Fri 08:00-18:00", validation_alias="TICKETBOT_BUSINESS_HOURS"
    )
    sla_critical: Target = Field(
        default=parse_sla_target("15m/4h"), validation_alias="TICKETBOT_SLA_CRITICAL"
    )
    sla_high: Target = Field(
        default=parse_sla_target("1h/8h"), validation_alias="TICKETBOT_SLA_HIGH"
    )
    sla_medium: Target = Field(
        default=parse_sla_target("4h/3d"), validation_alias="TICKETBOT_SLA_MEDIUM"
    )
    sla_low: Target = Field(
        default=parse_sla_target("1d/10d"), validation_alias="TICKETBOT_SLA_LOW"
    )

    @property
    def sla(self) -> tuple[tuple[str, SlaTarget], ...]:
        """(priority, target), most urgent first."""
        return (
            ("critical", self.sla_critical),
            ("high", self.sla_high),
            ("medium", self.sla_medium),
            ("low", self.sla_low),
        )

    def sla_target(self, priority: str) -> SlaTarget:
        return dict(self.sla)[priority]
