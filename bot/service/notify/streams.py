"""The outbox stream of every row, from one function: one stream per conversation, so that a
row retrying in one conversation never holds up another. The strings are stored in outbox rows
(the dispatcher keeps each stream in order): never change one."""

from __future__ import annotations

from typing import Literal

Surface = Literal["slack", "teams", "webhook", "email"]
Kind = Literal[
    "card",
    "client",
    "dm",
    "conversation",
    "ephemeral",
    "digest",
    "storm",
    "storm_card",
    "storm_dm",
    "recipient",
]

# (surface, kind) → the stream's string, each {} one part of the key.
_FORMATS: dict[tuple[Surface, Kind], str] = {
    # A ticket's card, everything in its thread, and the help posts beside it: by ticket id.
    ("slack", "card"): "slack:{}:card",
    ("teams", "card"): "teams:{}:card",
    # A ticket's client thread (its root, posts, buttons, mirrors): by ticket id.
    ("slack", "client"): "slack:{}:client",
    ("teams", "client"): "teams:{}:client",
    ("webhook", "client"): "webhook:{}",  # the client's Workflows webhook
    # One person's DMs whatever the ticket, in the order written: by Slack id, or object id.
    ("slack", "dm"): "slack-dm:{}",
    ("teams", "dm"): "teams-dm:{}",
    ("slack", "ephemeral"): "ephemeral:{}",  # by Slack id
    ("teams", "conversation"): "teams-conv:{}",  # a command's answer: by conversation id
    ("slack", "digest"): "slack:digest",
    ("teams", "digest"): "teams:digest",
    ("slack", "storm"): "storm:{}",  # the storm summary: by storm id
    ("slack", "storm_card"): "stormcard:{}",  # a storm ticket's card: by ticket id
    ("slack", "storm_dm"): "storm-dm:{}:{}",  # by storm id and manager's Slack id
    ("email", "recipient"): "email:{}:{}",  # by ticket id (or report key) and address
}


def stream(surface: Surface, kind: Kind, *key: object) -> str:
    """The stream of a `kind` row on `surface`, e.g. `stream("slack", "card", 12)` is
    "slack:12:card". ValueError for a pair with no stream or the wrong number of key parts."""
    fmt = _FORMATS.get((surface, kind))
    if fmt is None or fmt.count("{}") != len(key):
        raise ValueError(f"no {surface} {kind} stream keyed by {len(key)} part(s)")
    return fmt.format(*key)
