"""The escalation section: when an unassigned ticket pings again, a silent assignee is reminded,
a resolved ticket's client is asked again, and a ticket closes by itself (0 turns one off)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from bot.config.fields import Delay, Duration, Section


class EscalationSection(Section):
    """Escalation timers, in calendar time; a zero delay (`0`) turns a reminder or auto-close
    off."""

    reping_after: Duration = Field(
        default=timedelta(minutes=5), validation_alias="TICKETBOT_REPING_AFTER"
    )
    # A silent assignee is reminded after this (escalated at twice it), per priority.
    remind_after: Delay = Field(
        default=timedelta(minutes=30), validation_alias="TICKETBOT_REMIND_AFTER"
    )  # critical
    remind_after_high: Delay = Field(
        default=timedelta(hours=2), validation_alias="TICKETBOT_REMIND_AFTER_HIGH"
    )
    remind_after_medium: Delay = Field(
        default=timedelta(days=1), validation_alias="TICKETBOT_REMIND_AFTER_MEDIUM"
    )
    remind_after_low: Delay = Field(
        default=timedelta(days=3), validation_alias="TICKETBOT_REMIND_AFTER_LOW"
    )
    confirm_remind_after: Delay = Field(
        default=timedelta(days=1), validation_alias="TICKETBOT_CONFIRM_REMIND_AFTER"
    )
    auto_close_after: Delay = Field(
        default=timedelta(days=5), validation_alias="TICKETBOT_AUTO_CLOSE_AFTER"
    )
