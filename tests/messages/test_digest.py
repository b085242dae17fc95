"""The daily digest renderer: order, counts, escaping, limits, and its Teams translation."""

from __future__ import annotations

from datetime import date

from bot.messages.digest import LINES_PER_SECTION, DigestTicket, DigestView, digest, summary
from bot.teams.from_blocks import from_slack
from tests.slack.validator import assert_no_pings, validate_message
from tests.teams.validator import validate_card

DAY = date(2026, 12, 3)
OPEN = (
    DigestTicket(7, "Printer jammed", "low", "assigned", assignee="Tom Tech", client="Acme"),
    DigestTicket(3, "Internet down", "critical", "new", client="Acme", sla="breached"),
    DigestTicket(5, "VPN slow", "high", "in_progress", assignee="Lee Tech", sla="at_risk"),
    DigestTicket(4, "New laptop", "high", "new"),
    DigestTicket(9, "Mail quota", "high", "assigned", assignee="Tom Tech"),
)
CLOSED = (DigestTicket(2, "Scanner", "medium", "closed", assignee="Tom Tech", client="Acme"),)


def texts(view: DigestView) -> list[str]:
    msg = digest(view)
    validate_message(msg)
    assert_no_pings(msg.blocks)
    out = []
    for block in msg.blocks:
        if block["type"] == "header" or block["type"] == "section":
            out.append(block["text"]["text"])  # type: ignore[index]
        else:
            out += [e["text"] for e in block["elements"]]  # type: ignore[attr-defined]
    return out


def test_digest_lists_by_priority_unassigned_first_then_sla_and_closures() -> None:
    assert texts(DigestView(DAY, OPEN, CLOSED)) == [
        "Daily digest — Thu 3 Dec 2026",
        "5 open tickets: 1 critical, 3 high, 1 low · 2 unassigned · 1 SLA breached, 1 at risk "
        "· 1 closed yesterday",
        "*🔴 Critical (1)*\n• 🔴 *#3* Internet down — _unassigned_, new · Acme · 🔴 SLA breached",
        "*🟠 High (3)*\n"
        "• 🟠 *#4* New laptop — _unassigned_, new\n"
        "• 🟠 *#5* VPN slow — Lee Tech, in progress · 🟠 SLA at risk\n"
        "• 🟠 *#9* Mail quota — Tom Tech, assigned",
        "*⚪ Low (1)*\n• ⚪ *#7* Printer jammed — Tom Tech, assigned · Acme",
        "*🔴 SLA breached (1)*\n"
        "• 🔴 *#3* Internet down — _unassigned_, new · Acme · 🔴 SLA breached",
        "*🟠 SLA at risk (1)*\n• 🟠 *#5* VPN slow — Lee Tech, in progress · 🟠 SLA at risk",
        "*🏁 Closed yesterday (1)*\n• 🟡 *#2* Scanner — Tom Tech, closed · Acme",
    ]


def test_a_quiet_day() -> None:
    assert texts(DigestView(DAY)) == [
        "Daily digest — Thu 3 Dec 2026",
        "No open tickets 🎉 · 0 closed yesterday",
        "Nothing was closed yesterday.",
    ]


def test_user_text_is_escaped() -> None:
    nasty = DigestTicket(1, "<!channel> *boom* & <https://evil|x>", "medium", "new", client="<@U1>")
    shown = "\n".join(texts(DigestView(DAY, (nasty,))))
    assert "<!channel>" not in shown and "<@U1>" not in shown and "<https://" not in shown
    assert "&lt;!channel&gt;" in shown and "&amp;" in shown


def test_many_tickets_are_counted_not_listed_and_fit_block_kit() -> None:
    many = tuple(
        DigestTicket(i, "x" * 300, p, "new", client="C" * 300)
        for i in range(1, 400)
        for p in ("critical",)
    )
    lines = texts(DigestView(DAY, many, many))
    critical = next(t for t in lines if t.startswith("*🔴 Critical (399)*"))
    assert critical.count("\n• ") <= LINES_PER_SECTION
    assert len(critical) <= 3000
    assert any("… and" in t for t in lines)
    assert summary(DigestView(DAY, many)).startswith("399 open tickets: 399 critical")


def test_teams_gets_a_valid_card() -> None:
    msg = from_slack(digest(DigestView(DAY, OPEN, CLOSED)), {})
    validate_card(msg.card)
    shown = str(msg.card)
    assert "Daily digest — Thu 3 Dec 2026" in shown
    assert "**#3** Internet down" in shown
