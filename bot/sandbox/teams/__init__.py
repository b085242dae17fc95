"""Stand-ins for Teams: the Bot Connector and Entra login, Workflows webhooks, and the
activities Teams sends."""
