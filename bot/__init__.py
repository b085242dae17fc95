"""ticketbot: a chatops helpdesk for IT managed-service providers (Slack and email)."""
