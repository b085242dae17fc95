"""The `stack` fixture: emulator + SMTP sink + the real bot over HTTP, on each test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox.stack import Stack


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with Stack(database_url=database_url) as s:
        yield s
