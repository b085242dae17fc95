"""The stream keys: stored in outbox rows, so each is pinned to the string it has always been."""

from __future__ import annotations

import pytest

from bot.service.notify.streams import Kind, Surface, stream

# Every stream the notifier writes, as production outbox rows hold them.
STORED = [
    (("slack", "card", 12), "slack:12:card"),
    (("slack", "client", 12), "slack:12:client"),
    (("slack", "dm", "U0TECH"), "slack-dm:U0TECH"),
    (("teams", "card", 12), "teams:12:card"),
    (("teams", "client", 12), "teams:12:client"),
    (("teams", "dm", "0f3c-aad"), "teams-dm:0f3c-aad"),
    (("webhook", "client", 12), "webhook:12"),
    (("email", "recipient", 12, "carl@acme.example"), "email:12:carl@acme.example"),
    (
        ("email", "recipient", "report-2025-01-3", "m@msp.example"),
        "email:report-2025-01-3:m@msp.example",
    ),
    (("slack", "ephemeral", "U0EMP"), "ephemeral:U0EMP"),
    (("teams", "conversation", "19:abc@thread.tacv2"), "teams-conv:19:abc@thread.tacv2"),
    (("slack", "digest"), "slack:digest"),
    (("teams", "digest"), "teams:digest"),
    (("slack", "storm", 4), "storm:4"),
    (("slack", "storm_card", 12), "stormcard:12"),
    (("slack", "storm_dm", 4, "U0MGR"), "storm-dm:4:U0MGR"),
]


@pytest.mark.parametrize(("args", "expected"), STORED)
def test_stream_is_the_stored_string(args: tuple[object, ...], expected: str) -> None:
    surface, kind, *key = args
    assert stream(surface, kind, *key) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("surface", "kind", "key"),
    [
        ("teams", "ephemeral", ("0f3c-aad",)),  # Teams has no ephemeral messages
        ("slack", "card", ()),  # a card's stream needs its ticket
        ("email", "recipient", (12,)),  # and a mail's, its address
        ("slack", "digest", ("today",)),
    ],
)
def test_stream_refuses_a_pair_it_does_not_know_or_a_wrong_key(
    surface: Surface, kind: Kind, key: tuple[object, ...]
) -> None:
    with pytest.raises(ValueError, match="stream"):
        stream(surface, kind, *key)
