"""`/ticket report [client] [month]` through the emulator (signed requests into the real app):
a manager gets the month's figures as an ephemeral Block Kit summary that Slack would accept,
names escaped; anyone else gets a plain refusal; a bad month or client is said plainly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox.stack import CAST, Stack
from tests.acceptance.helpers import block_text, ok
from tests.reports.month_fixture import MONTH, TZ, write_month


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with Stack(database_url=database_url, extra_env={"TICKETBOT_TIMEZONE": TZ}) as s:
        with s.rt.sessions.begin() as session:
            write_month(session)
        yield s


def test_a_manager_gets_every_client_and_the_overall(stack: Stack) -> None:
    answer = ok(stack.emu.slash_command(CAST.manager, CAST.tech_channel, f"report {MONTH}"))
    assert answer.response_errors == []
    body = answer.json
    assert body["response_type"] == "ephemeral"
    blocks = body["blocks"]
    assert blocks[0]["text"]["text"] == "Ticket report, November 2026"
    assert blocks[1]["fields"][0]["text"] == "*Tickets opened*\n7 (1 cancelled)"
    assert blocks[1]["fields"][6]["text"] == "*Response SLA met*\n75% (3/4)"
    text = block_text(blocks)
    assert "<!channel>" not in text and "<b>" not in text
    assert 'Acme &lt;b&gt;Corp&lt;/b&gt; &amp; \\"Sons\\" &lt;!channel&gt;' in text
    assert "Acme Corp" in text  # the stack's own client, with no tickets that month
    assert "*Globex*\\n1 opened" in text


def test_a_manager_names_one_client_in_any_case(stack: Stack) -> None:
    answer = ok(stack.emu.slash_command(CAST.manager, CAST.tech_channel, "report globex 2026-11"))
    assert answer.response_errors == []
    blocks = answer.json["blocks"]
    assert blocks[1]["fields"][5]["text"] == "*Resolve, mean / p90*\n2d 0h / 2d 0h (n=1)"
    assert "times around the clock" in blocks[2]["elements"][0]["text"]


@pytest.mark.parametrize("who", [CAST.tech1, CAST.employee])
def test_anyone_but_a_manager_is_refused_plainly(stack: Stack, who: str) -> None:
    channel = CAST.tech_channel if who == CAST.tech1 else CAST.client_channel
    answer = ok(stack.emu.slash_command(who, channel, f"report {MONTH}"))
    assert answer.json == {
        "text": "Only IT managers can see ticket reports. To report a problem, type `/ticket` "
        "and what is wrong, e.g. `/ticket printer on floor 3 jammed`, or just `/ticket` for the "
        "form.",
        "response_type": "ephemeral",
    }


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("report 2026-13", "'2026-13' is not a month like 2026-11. Usage: `/ticket report"),
        ("report Initech 2026-11", "There is no client named 'Initech'."),
    ],
)
def test_a_bad_month_or_client_is_said_plainly(stack: Stack, words: str, said: str) -> None:
    answer = ok(stack.emu.slash_command(CAST.manager, CAST.tech_channel, words))
    assert answer.json["response_type"] == "ephemeral"
    assert answer.json["text"].startswith(said)
