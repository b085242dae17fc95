"""`ticketbot demo` and `ticketbot demo --teams` run end to end and print what every party saw."""

from __future__ import annotations

import io
import os
import re

import pytest

from bot.cli.demo_slack import failed
from bot.cli.main import main

CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def _section(output: str, title: str) -> str:
    """The transcript section under the `══ title… ══` header, up to the next header."""
    start = output.index(f"══ {title}")
    end = output.find("\n══ ", start + 1)
    return output[start : end if end != -1 else len(output)]


def test_slack_demo_shows_every_party(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    techs = _section(out, "#technicians")
    assert re.search(r"\[ticketbot\] \(pings @here\) \(updated \d+×\) ## #1 Internet down", techs)
    assert "[I can help]" in techs
    assert "Thanks! Reception can't take calls either." in techs
    erin = _section(out, "#acme-help")
    assert "On it. The ISP reports an outage" in erin
    assert "router admin password" not in erin
    assert "Critical ticket *#1*" in _section(out, "DMs to Maya (manager)")
    assert "Ticket #1 closed" in _section(out, "Emails")
    assert re.search(r"Demo finished in [\d.]+ s: ticket closed after confirmation", out)


def test_teams_demo_shows_every_party(capsys: pytest.CaptureFixture[str]) -> None:
    trusted = {key: os.environ.get(key) for key in CA_VARIABLES}
    assert main(["demo", "--teams"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "▶ Erin (Acme Corp) types `ticket` in her Teams chat with the bot" in out

    erin = _section(out, "Erin's Teams chat")
    assert "buttons: [New ticket]" in erin
    assert "[Erin] submitted “Internet down at HQ” (critical" in erin
    assert "the dialog “New ticket” asks for [Title: ____]" in erin
    assert "Ticket #1 received — priority 🔴 critical" in erin
    assert "Assigned to Tom Tech." in erin
    assert "On it. The ISP reports an outage" in erin
    assert "Tara Tech is on the way, ETA 10:45" in erin
    assert "Tara tested browsing and calls from two desks" in erin
    # The Confirm fixed / Still broken buttons were replaced by the outcome once Erin clicked.
    assert "(updated 1×)" in erin and "Confirmed fixed by Erin Employee" in erin
    assert "[Erin] clicked Confirm fixed" in erin
    assert "is closed — confirmed by Erin Employee" in erin
    assert "State: Closed" in erin  # her `status 1`
    assert "router admin password" not in erin and "<!" not in erin

    techs = _section(out, "Slack #technicians")
    assert re.search(r"\[ticketbot\] \(pings @here\) \(updated \d+×\) ## #1 Internet down", techs)
    assert "This card is final" in techs
    assert "*Erin Employee* (client): Thanks! Reception can't take calls either." in techs
    assert "needs more hands" in techs and "[I can help]" in techs
    assert "Critical ticket *#1*" in _section(out, "DMs to Maya (manager)")
    assert "assigned you *#1*" in _section(out, "DMs to Tom (technician)")
    assert "sending you onsite" in _section(out, "DMs to Tara (technician)")

    mails = _section(out, "Emails")
    assert "→  carl@acme.example, erin@acme.example" in mails
    assert "→  maya@msp.example, tara@msp.example, tom@msp.example" in mails
    assert "Update on #1 from Erin Employee" in mails
    closed = "→  carl@acme.example, erin@acme.example, maya@msp.example, tara@msp.example, tom@"
    assert closed in mails

    summary = re.search(
        r"Teams demo finished in [\d.]+ s: ticket closed after confirmation; (\d+) Teams "
        r"activities posted to the bot, (\d+) Teams messages from the bot \((\d+) updated in "
        r"place\), (\d+) Slack posts, (\d+) emails\.",
        out,
    )
    assert summary, out[-400:]
    posted, sent, updated, slack, emails = map(int, summary.groups())
    assert posted == 6 and sent >= 8 and updated >= 1 and slack > 0 and emails > 0
    # The stand-in's CA was trusted only while the demo ran.
    assert {key: os.environ.get(key) for key in CA_VARIABLES} == trusted


def test_teams_demo_quiet_prints_only_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--teams", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.strip().startswith("Teams demo finished in") and "══" not in out


def test_a_failed_step_is_named_in_one_line() -> None:
    err = io.StringIO()
    code = failed(err, "Erin clicks Confirm fixed", AssertionError("no Confirm fixed button"))
    assert code == 1
    assert err.getvalue() == (
        "ticketbot demo: failed at “Erin clicks Confirm fixed”: no Confirm fixed button\n"
    )
