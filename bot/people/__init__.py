"""People: one person across Slack, Teams and email, their roles, and their client company."""
