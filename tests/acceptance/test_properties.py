"""Property: any text typed after /ticket makes exactly one ticket and never pings anyone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.outbox.pacing import PaceRule
from bot.outbox.policy import DispatchPolicy
from bot.sandbox.stack import CAST, Stack
from storage.models import Ticket

BROADCAST = re.compile(r"<!(here|channel|everyone|subteam)", re.IGNORECASE)
LITERAL = re.compile(r"(?<![\u200b])@(here|channel|everyone)\b", re.IGNORECASE)
SUBCOMMANDS = re.compile(r"^(help|\?|-h|--help|list|mine|ls|status(\s.*)?)$", re.IGNORECASE | re.S)

tricky = st.sampled_from(
    [
        "<!channel> internet down",
        "@here printer",
        "<!subteam^S123|@techs> hi",
        "&amp; &lt; & < > <@UMAYA>",
        "token=xoxb-123&command=/ticket&user_id=UMAYA",
        'payload={"type":"block_actions"}',
        "line one\r\nline two\n\nthree",
        "💥🔥 ünïcödé ✓ 中文 עברית",
        "x" * 5000,
        "<https://evil.example|click> <#C123|general>",
        "\u202e reversed \u200b zero width",
        "null\x00byte and \x07bell",
    ]
)
# Slack's pace per channel (bot/slack/route.py) is not what this property is about, and would
# hold each example about a second for its posts: lifted, an example costs its round trips.
UNPACED = DispatchPolicy(poll_interval=0.2, paces={"slack": PaceRule(1000.0, 1000)})
texts = st.one_of(tricky, st.text(min_size=1, max_size=300), st.text(min_size=3000, max_size=6000))


@pytest.fixture(scope="module")
def module_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('prop')) / 'prop.db'}"
    with Stack(database_url=url, policy=UNPACED) as stack:
        yield stack


def _count(stack: Stack) -> int:
    with stack.rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Ticket)) or 0)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts)
def test_any_text_makes_one_ticket_and_pings_nobody(module_stack: Stack, text: str) -> None:
    stack = module_stack
    stripped = text.strip()
    before_calls = len(stack.emu.calls)
    before = _count(stack)
    answer = stack.emu.slash_command(CAST.employee, CAST.client_channel, text)
    assert answer.status == 200
    assert "Traceback" not in answer.body
    stack.wait_delivered()
    created = _count(stack) - before
    if (
        not stripped
        or SUBCOMMANDS.match(stripped)
        or not any(ch.isprintable() and not ch.isspace() for ch in stripped)
    ):
        assert created == 0
    else:
        assert created == 1, answer.body
    for call in stack.emu.calls[before_calls:]:
        if call.method.startswith("chat."):
            posted = str(call.params.get("text", "")) + str(call.params.get("blocks", ""))
            assert not BROADCAST.search(posted), posted[:300]
            assert not LITERAL.search(posted), posted[:300]
