"""What the Notifier is set up with: the technician channels, the critical mention, the email
domain, and which chat surfaces are on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NotifySettings:
    tech_channel: str | None  # the Slack technician channel; None: no technicians on Slack
    critical_mention: str  # Slack syntax: <!here>, <!channel>, <!subteam^S…>
    email_domain: str | None  # None: email is off
    teams_tech_channel: str | None = None  # the Teams technician channel's conversation id
    slack_on: bool = True
    teams_on: bool = False
