from __future__ import annotations

import pytest

from bot.reports.month import Month
from handlers.grammar import (
    REPORT_USAGE,
    SLACK_STATUS_USAGE,
    TEAMS_STATUS_USAGE,
    Help,
    Home,
    ListMine,
    NewForm,
    Quick,
    Report,
    SlackCommand,
    Status,
    TeamsCommand,
    Usage,
    slack_command,
    teams_message,
)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", NewForm()),
        ("   ", NewForm()),
        ("help", Help()),
        ("HELP", Help()),
        ("?", Help()),
        ("-h", Help()),
        ("--help", Help()),
        ("list", ListMine()),
        ("Mine", ListMine()),
        ("ls", ListMine()),
        ("status 42", Status(42)),
        ("status #42", Status(42)),
        ("STATUS\t7 ", Status(7)),
        ("status", Usage(SLACK_STATUS_USAGE)),
        ("status of my ticket", Usage(SLACK_STATUS_USAGE)),
        ("status 1234567890", Usage(SLACK_STATUS_USAGE)),
        ("report", Report(None, None)),
        ("Report Acme Corp 2026-11", Report("Acme Corp", Month(2026, 11))),
        ("report 2026-3", Usage(f"'2026-3' is not a month like 2026-11. {REPORT_USAGE}")),
        ("report 2026-03", Report(None, Month(2026, 3))),
        ("report acme", Report("acme", None)),
        ("report 2026-13", Usage(f"'2026-13' is not a month like 2026-11. {REPORT_USAGE}")),
        ("printer on floor 3 jammed", Quick("printer on floor 3 jammed")),
        ("  statusbar is broken ", Quick("statusbar is broken")),
        ("reporting tool down", Quick("reporting tool down")),
        ("help me please", Quick("help me please")),
        ("list of printers is empty", Quick("list of printers is empty")),
        ("home", Quick("home")),
    ],
)
def test_slack_command_reads_what_follows_the_slash_command(
    text: str, command: SlackCommand
) -> None:
    assert slack_command(text) == command


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Help()),
        ("help", Help()),
        ("?", Help()),
        ("help me", Help()),
        ("ticket", NewForm()),
        ("/ticket", NewForm()),
        ("Ticket printer on floor 3 jammed", Quick("printer on floor 3 jammed")),
        ("ticket list", Quick("list")),
        ("ticket status 42", Quick("status 42")),
        ("list", ListMine()),
        ("MINE", ListMine()),
        ("list everything", Help()),
        ("status 42", Status(42)),
        ("status #42", Status(42)),
        ("status", Usage(TEAMS_STATUS_USAGE)),
        ("status abc", Usage(TEAMS_STATUS_USAGE)),
        ("home", Home("home", 0)),
        ("Dashboard 3", Home("dashboard", 2)),
        ("home 0", Help()),
        ("home page", Help()),
        ("report acme 2026-11", Help()),
        ("printer jammed", Help()),
        ("ticket\nprinter jammed", Help()),
    ],
)
def test_teams_message_reads_a_message_to_the_bot(text: str, command: TeamsCommand) -> None:
    assert teams_message(text) == command
