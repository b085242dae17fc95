"""Microsoft Teams: the SDK's bot, its token, Adaptive Cards and dialogs, the app package,
delivery through the Bot Connector and Workflows webhooks."""
