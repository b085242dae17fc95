"""Loopback stand-ins for Slack, the Teams Bot Connector, Teams Workflows webhooks and SMTP used
by `ticketbot demo` and the acceptance tests.

Nothing in the bot's runtime path may import this package.
"""

from __future__ import annotations

from bot.sandbox.mail import MailSink, ReceivedMail
from bot.sandbox.slack.emulator import (
    ApiCall,
    Channel,
    Delivery,
    Ephemeral,
    Faults,
    Message,
    ResponsePost,
    SlackEmulator,
    Stats,
    User,
    View,
    block_errors,
    render_text,
    sign,
    view_errors,
)
from bot.sandbox.teams.connector import BotConnector, PostedActivity, TeamsChannel, TeamsUser
from bot.sandbox.teams.workflows import WorkflowPost, WorkflowsListener

__all__ = [
    "ApiCall",
    "BotConnector",
    "Channel",
    "Delivery",
    "Ephemeral",
    "Faults",
    "MailSink",
    "Message",
    "PostedActivity",
    "ReceivedMail",
    "ResponsePost",
    "SlackEmulator",
    "Stats",
    "TeamsChannel",
    "TeamsUser",
    "User",
    "View",
    "WorkflowPost",
    "WorkflowsListener",
    "block_errors",
    "render_text",
    "sign",
    "view_errors",
]
