"""The ticket detail modal within Block Kit's limits: split description, capped lists, states."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest

from bot.messages import ids
from bot.messages.view import DeliveryView
from bot.sandbox.slack.blocks import view_errors
from bot.slack.detail import delivery_line, description_chunks, detail_modal
from tests.messages.factories import NOW, entry, make_view
from tests.slack.validator import assert_no_pings, validate_view


def _delivery(status: str, attempts: int = 1, **changes: Any) -> DeliveryView:
    values: dict[str, Any] = {
        "channel": "slack",
        "kind": "post",
        "target": "U0TECH0001",
        "status": status,
        "attempts": attempts,
        "last_error": None,
        "created_at": NOW - timedelta(minutes=3),
        "delivered_at": NOW if status == "done" else None,
    }
    return DeliveryView(**(values | changes))


def _valid(view: dict[str, Any]) -> None:
    validate_view(view)
    assert view_errors(view) == []
    assert_no_pings(view)


def _texts(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section" and "text" in b]


@pytest.mark.parametrize("unit", ["&", "a", "<!channel> & @here\n", "x" * 2950 + "\n"])
def test_a_40k_description_is_split_whole_and_stays_within_limits(unit: str) -> None:
    raw = (unit * (40_000 // len(unit) + 1))[:40_000]
    view = detail_modal(make_view(description=raw), [], [], staff=True)
    _valid(view)
    chunks = description_chunks(raw)
    assert all(0 < len(c) <= 3000 for c in chunks)
    joined = html.unescape("".join(chunks)).replace("\u200b", "")
    assert "".join(joined.split()) == "".join(raw.split())  # all of it, in order
    shown = _texts(view)
    assert shown[shown.index("*Description*") + 1 : shown.index("*Timeline*")] == chunks


def test_an_escape_is_never_cut_in_two() -> None:
    for chunk in description_chunks("&" * 10_000):
        assert chunk.startswith("&amp;") and chunk.endswith("&amp;")


def test_a_long_timeline_keeps_the_newest_and_says_how_many_are_left_out() -> None:
    timeline = [entry(5000 - n, "Sam Tech", "update", f"step {n} " + "z" * 900) for n in range(500)]
    deliveries = [_delivery("done") for _ in range(2000)]
    view = detail_modal(make_view(), timeline, deliveries, staff=True)
    _valid(view)
    assert len(view["blocks"]) <= 100
    texts = "\n".join(_texts(view))
    assert "step 499 " in texts and "step 0 " not in texts
    assert "earlier not shown" in texts
    assert 0 < texts.count("✅ sent") < 2000


def test_staff_only_parts_are_left_out_for_everyone_else() -> None:
    timeline = [
        entry(9, "Dana Client", "created", "critical — Internet down"),
        entry(5, "Sam Tech", "internal_note", "the router is from the Jones job"),
        entry(4, "Sam Tech", "update", "on my way"),
    ]
    staff = detail_modal(make_view(), timeline, [_delivery("parked")], staff=True)
    client = detail_modal(make_view(), timeline, [], staff=False)
    _valid(staff)
    _valid(client)
    assert "Jones job" in "\n".join(_texts(staff)) and "*Notifications*" in _texts(staff)
    assert "Jones job" not in "\n".join(_texts(client))
    assert "*Notifications*" not in _texts(client)
    assert "on my way" in "\n".join(_texts(client))
    assert client["callback_id"] == ids.VIEW_DETAIL and client["private_metadata"] == "12"
    assert client["title"]["text"] == "Ticket #12"


@pytest.mark.parametrize(
    ("delivery", "expected"),
    [
        (_delivery("done"), "✅ sent · slack post → <@U0TECH0001> · 2026-01-05 12:00 UTC"),
        (_delivery("pending", 0), "🕓 waiting · slack post → <@U0TECH0001> · 2026-01-05 11:57 UTC"),
        (
            _delivery("pending", 2, last_error="Slack error 503"),
            "🔁 retrying · slack post → <@U0TECH0001> · 2026-01-05 11:57 UTC · 2 attempt(s) · "
            "Slack error 503",
        ),
        (_delivery("sending", 0), "📤 sending · slack post → <@U0TECH0001> · 2026-01-05 11:57 UTC"),
        (
            _delivery(
                "parked", channel="email", kind="email", target="a<b>@x.example", last_error="bad"
            ),
            "⛔ parked · email email → a&lt;b&gt;@x.example · 2026-01-05 11:57 UTC · 1 attempt(s)"
            " · bad",
        ),
        (
            _delivery("done", target="CTECHS", kind="card"),
            "✅ sent · slack card → <#CTECHS> · 2026-01-05 12:00 UTC",
        ),
    ],
)
def test_each_delivery_state_reads_plainly(delivery: DeliveryView, expected: str) -> None:
    assert delivery_line(delivery) == expected
