"""Loopback stand-ins for Slack, the Teams Bot Connector, Teams Workflows webhooks, SMTP and
Alertmanager, used by `ticketbot demo` and the tests; nothing in the bot's runtime imports them."""
