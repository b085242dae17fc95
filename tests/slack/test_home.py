"""The App Home renderer: each role's sections, paging and Block Kit limits, escaping. Every view
is checked with the emulator's validator, which rejects what Slack would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.home.view import Figures, HomeData, HomeSection, HomeTicket, TechLoad
from bot.messages import ids
from bot.messages.view import PersonRef, SlaClock
from bot.sandbox.slack.blocks import view_errors
from bot.slack.home import PAGE_ROWS, home_view, page_of, permalink
from tests.acceptance.helpers import actions_in, block_text

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TOM = PersonRef(name="Tom", slack_id="UTOM")


def ticket(i: int, **kw: object) -> HomeTicket:
    values: dict[str, object] = {
        "id": i,
        "title": f"Problem {i}",
        "priority": "critical",
        "state": "new",
        "client_name": "Acme",
        "assignee": None,
        "updated_at": NOW - timedelta(minutes=i),
    }
    values.update(kw)
    return HomeTicket(**values)  # type: ignore[arg-type]


def manager(count: int) -> HomeData:
    rows = tuple(
        ticket(
            i,
            sla=(SlaClock("resolve", NOW, "breached", NOW),),
            card=("CTECHS", f"17000000{i:02}.000100"),
            assignee=TOM if i % 2 else None,
        )
        for i in range(1, count + 1)
    )
    return HomeData(
        role="manager",
        user="UMAYA",
        now=NOW,
        sections=(HomeSection("Critical — open", rows, ""),),
        load=tuple(TechLoad(PersonRef(name=f"Tech {i}"), i, 0) for i in range(200)),
        figures=Figures(30, 10, 4, timedelta(minutes=42), None, 3),
        workspace_url="https://msp.slack.com/",
    )


@pytest.mark.parametrize("count", [0, 1, PAGE_ROWS, 300])
def test_every_page_of_a_manager_home_is_a_valid_home_view(count: int) -> None:
    data = manager(count)
    pages = page_of(data, 0).count
    seen = []
    for page in range(pages):
        view = home_view(data, page)
        assert view_errors(view, surface="home") == []
        blocks = view["blocks"]
        assert isinstance(blocks, list) and len(blocks) <= 100
        seen += [
            e["value"]
            for b in blocks
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == ids.VIEW_TICKET
        ]
    assert seen == [str(i) for i in range(1, count + 1)]


def test_a_page_past_the_last_shows_the_last() -> None:
    data = manager(45)
    assert home_view(data, 99)["private_metadata"] == "2"
    assert home_view(data, -3)["private_metadata"] == "0"


def test_manager_rows_act_and_link_to_the_card() -> None:
    view = home_view(manager(3))
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    assert actions_in(blocks).count(ids.ASSIGN) == 3
    links = [e.get("url") for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert "https://msp.slack.com/archives/CTECHS/p1700000001000100" in links
    text = block_text(blocks)
    assert "Mean time to assign*\\n42 min" in text and "Mean time to resolve*\\n—" in text
    assert "… and" in text  # 200 technicians: the load list stops visibly


def test_untrusted_text_is_escaped_and_capped() -> None:
    data = HomeData(
        role="employee",
        user="UERIN",
        now=NOW,
        sections=(
            HomeSection(
                "Your open tickets",
                (ticket(1, title="<!channel> @here " + "x" * 5000, client_name="<@U123>"),),
                "",
            ),
        ),
    )
    view = home_view(data)
    assert view_errors(view, surface="home") == []
    text = block_text(view["blocks"])
    assert "<!channel>" not in text and "<@U123>" not in text and "&lt;!channel&gt;" in text


def test_employee_confirms_only_what_awaits_them_and_empty_sections_say_so() -> None:
    data = HomeData(
        role="employee",
        user="UERIN",
        now=NOW,
        sections=(
            HomeSection(
                "Your open tickets",
                (ticket(1, state="awaiting_confirmation", confirm=True), ticket(2)),
                "none",
            ),
            HomeSection("Closed in the last 30 days", (), "Nothing closed recently."),
        ),
    )
    blocks = home_view(data)["blocks"]
    assert actions_in(blocks).count(ids.CONFIRM) == 1
    assert ids.ASSIGN not in actions_in(blocks) and ids.HOME_PAGE_NEXT not in actions_in(blocks)
    assert "Nothing closed recently." in block_text(blocks)


def test_permalink_needs_a_workspace_url_and_a_card() -> None:
    assert permalink(None, ("C1", "1.2")) is None
    assert permalink("https://t.slack.com/", None) is None
    assert permalink("https://t.slack.com", ("C1", "170.000200")) == (
        "https://t.slack.com/archives/C1/p170000200"
    )
