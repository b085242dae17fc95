"""The `stack` fixtures: emulator + SMTP sink + the real bot over HTTP, on each test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox.stack import CAST, Stack
from tests.acceptance.helpers import GUEST


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with Stack(database_url=database_url) as s:
        yield s


@pytest.fixture
def guest_stack(database_url: str) -> Iterator[Stack]:
    """Technicians named explicitly, so a guest in the technician channel is not one."""
    s = Stack(
        database_url=database_url,
        extra_env={"TICKETBOT_TECHNICIANS": f"{CAST.tech1},{CAST.tech2}"},
    )
    s.extra_tech_channel_members.append(GUEST)
    with s:
        yield s
