"""ticketbot: a chatops helpdesk for IT managed-service providers (Slack, Teams and email)."""
