"""The settings a command reads from the environment (`main` has loaded `.env` into it)."""

from __future__ import annotations

import os

from bot.config.settings import Settings


def db_settings() -> Settings:
    """For the commands that need only the database (no Slack)."""
    return Settings.from_mapping(os.environ, require_slack=False)
