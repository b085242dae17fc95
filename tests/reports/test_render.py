"""The report's text, CSV and Block Kit renderings of the hand-computed month: CSV parsed back
to the same figures, untrusted client names escaped, Block Kit within Slack's limits."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from bot.messages import limits
from bot.reports.figures import Report, Section
from bot.reports.render import render
from bot.reports.summary import report_summary
from bot.reports.table import columns
from bot.sandbox.slack.blocks import block_errors
from tests.reports.month_fixture import ACME, EXPECTED_COUNTS, EXPECTED_RATES, EXPECTED_TIMES


def test_csv_parses_back_to_the_hand_counted_figures(report: Report) -> None:
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert [r["scope"] for r in rows] == ["client", "client", "no_client", "overall"]
    assert set(rows[0]) == set(columns())
    names = [ACME, "Globex", "No client", "Overall"]
    assert [r["client"] for r in rows] == [ACME, "Globex", "", ""]
    for name, row in zip(names, rows, strict=True):
        opened, cancelled, priorities, sources = EXPECTED_COUNTS[name]
        assert (int(row["opened"]), int(row["cancelled"])) == (opened, cancelled)
        got = tuple(int(row[f"priority_{p}"]) for p in ("low", "medium", "high", "critical"))
        assert got == priorities
        assert (int(row["source_person"]), int(row["source_monitoring"])) == sources
        for kind, (count, mean, p90) in zip(
            ("acknowledge", "assign", "resolve"), EXPECTED_TIMES[name], strict=True
        ):
            assert int(row[f"{kind}_count"]) == count
            if mean is None:
                assert row[f"{kind}_mean_minutes"] == row[f"{kind}_p90_minutes"] == ""
            else:
                assert float(row[f"{kind}_mean_minutes"]) == round(mean.total_seconds() / 60, 1)
                assert p90 is not None
                assert float(row[f"{kind}_p90_minutes"]) == p90.total_seconds() / 60
        *rates, onsite = EXPECTED_RATES[name]
        for kind, (hits, total) in zip(
            ("response_sla", "resolve_sla", "reopen"), rates, strict=True
        ):
            assert (int(row[f"{kind}_hits"]), int(row[f"{kind}_total"])) == (hits, total)
            expected = f"{hits / total:.4f}" if total else ""
            assert row[f"{kind}_rate"] == expected
        assert int(row["onsite_visits"]) == onsite
    assert rows[3]["month"] == "2026-11" and rows[3]["timezone"] == "Europe/Berlin"


def test_csv_cells_never_start_a_spreadsheet_formula(report: Report) -> None:
    evil = replace(report.sections[1], name='=HYPERLINK("http://x")')
    rows = list(csv.DictReader(io.StringIO(render(replace(report, sections=(evil,)), "csv"))))
    assert rows[0]["client"] == '\'=HYPERLINK("http://x")'


def test_text_shows_each_section_with_its_figures_and_what_they_count(report: Report) -> None:
    text = render(report, "text")
    assert text.startswith("Ticket report, November 2026 (Europe/Berlin)\n")
    acme = text.split(ACME + "\n", 1)[1].split("\n\n", 1)[0]
    assert "times in business hours Mon-Fri 09:00-17:00 (Europe/Berlin)" in acme
    assert "Tickets opened            5 (1 cancelled)" in acme
    assert "By priority               low 1 · medium 2 · high 1 · critical 1" in acme
    assert "By source                 person 4 · monitoring 1" in acme
    assert "Acknowledge, mean / p90   22m / 30m (n=3)" in acme
    assert "Resolve, mean / p90       2h 50m / 3h 30m (n=3)" in acme
    assert "Response SLA met          67% (2/3)" in acme
    assert "Reopened                  33% (1/3)" in acme
    assert "Onsite visits             2" in acme
    assert "Resolve, mean / p90       2d 0h / 2d 0h (n=1)" in text  # Globex, around the clock
    assert "Tickets opened in the month (local time)." in text


def test_the_slack_summary_is_valid_block_kit_with_names_escaped(report: Report) -> None:
    msg = report_summary(report)
    assert block_errors(msg.blocks) == []
    assert len(msg.blocks) <= limits.MAX_BLOCKS_MESSAGE
    text = str(msg.blocks)
    assert "<!channel>" not in text and "<b>" not in text
    assert "Acme &lt;b&gt;Corp&lt;/b&gt; &amp;" in text
    fields = msg.blocks[1]["fields"]
    assert isinstance(fields, list) and len(fields) == 10
    assert fields[0]["text"] == "*Tickets opened*\n7 (1 cancelled)"


def test_the_slack_summary_of_many_clients_stays_within_the_block_limit(report: Report) -> None:
    many = tuple(
        Section(f"Client {i} <&> " * 40, i, report.sections[0].figures, None) for i in range(120)
    )
    msg = report_summary(replace(report, sections=many))
    assert block_errors(msg.blocks) == []
    assert len(msg.blocks) == limits.MAX_BLOCKS_MESSAGE
    assert limits.block_text_size(msg.blocks) <= limits.MESSAGE_BLOCK_TEXT
    assert "75 more clients" in msg.blocks[-1]["elements"][0]["text"]


def test_the_slack_summary_of_one_client_says_its_hours(report: Report) -> None:
    msg = report_summary(replace(report, sections=report.sections[:1], overall=None))
    assert block_errors(msg.blocks) == []
    assert "business hours Mon-Fri 09:00-17:00" in msg.blocks[2]["elements"][0]["text"]
    assert msg.text.startswith("Ticket report, November 2026: Acme &lt;b&gt;")
