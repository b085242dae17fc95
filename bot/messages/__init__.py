"""What the bot says, once, for every surface: ticket views, wording, ids, limits, escaping.
Chat messages are written as Block Kit, which Slack posts as is and Teams translates."""
