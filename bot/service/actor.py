"""Who acts in a use-case: a person's key and the surface they used."""

from __future__ import annotations

from dataclasses import dataclass

from bot.people.identity import Profile


@dataclass(frozen=True)
class Actor:
    """Who acts: a person's key (a Slack id, or `teams:<Entra object id>`) and the surface used.
    A Teams handler passes the `profile` it read from the conversation roster."""

    key: str
    surface: str = "slack"
    profile: Profile | None = None
