from __future__ import annotations

import pytest

from bot.domain import replies


@pytest.mark.parametrize(
    ("kinds", "public"),
    [
        ([], False),
        (["update"], True),
        (["client_reply", "edited"], True),
        (["internal_note"], False),
        (["comment"], False),  # any other original stays internal
        (["update", "made_internal"], False),
        (["internal_note", "made_public"], True),
        (["update", "made_internal", "internal_edit", "made_public", "edited"], True),
        (["update", "made_internal", "made_public", "made_internal", "deleted"], False),
        (["internal_note", "made_public", "deleted"], True),
    ],
)
def test_is_public_follows_the_last_visibility_change(kinds: list[str], public: bool) -> None:
    assert replies.is_public(kinds) is public
