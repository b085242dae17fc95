"""The ticket command's words, read once for both surfaces: what follows `/ticket` in Slack, and
a message to the bot in Teams (`ticket …`, `list`, `status 42`, `home 2`). Text in, a small
typed command out; pure. Each surface's listener answers the command its own way."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.reports.month import Month

TEAMS_WORD = "ticket"  # Teams has no slash commands: a message starting with it is one
HELP_WORDS = ("help", "?", "-h", "--help")
LIST_WORDS = ("list", "mine", "ls")
HOME_WORDS = ("home", "dashboard")
_STATUS = re.compile(r"^status\s+#?(\d{1,9})\s*$", re.IGNORECASE)
_STATUS_WORD = re.compile(r"^status(\s|$)", re.IGNORECASE)
_REPORT_WORD = re.compile(r"^report(\s|$)", re.IGNORECASE)
_MONTH_LIKE = re.compile(r"^\d{4}-\d{1,2}$")
_HOME_PAGE = re.compile(r"^(?:[1-9]\d{0,3})?$")  # `home`, or `home 2` for its second page
SLACK_STATUS_USAGE = "Usage: `/ticket status <id>`, for example `/ticket status 42`."
TEAMS_STATUS_USAGE = "Usage: status <id>, for example: status 42"
REPORT_USAGE = "Usage: `/ticket report [client] [YYYY-MM]`, e.g. `/ticket report 2026-11`."


@dataclass(frozen=True)
class NewForm:
    """Open the create form."""


@dataclass(frozen=True)
class Quick:
    """Open a ticket with this title at once."""

    title: str


@dataclass(frozen=True)
class ListMine:
    """The asker's open tickets."""


@dataclass(frozen=True)
class Status:
    """Where ticket `ticket_id` stands."""

    ticket_id: int


@dataclass(frozen=True)
class Help:
    """How to use the command."""


@dataclass(frozen=True)
class Report:
    """A client's monthly report (the asker's own client, last month, when not said)."""

    client: str | None
    month: Month | None


@dataclass(frozen=True)
class Home:
    """The asker's App Home, as a message; `page` counts from 0."""

    word: str
    page: int


@dataclass(frozen=True)
class Usage:
    """A command used wrongly: `text` says how to use it (plain text)."""

    text: str


SlackCommand = NewForm | Quick | ListMine | Status | Help | Report | Usage
TeamsCommand = NewForm | Quick | ListMine | Status | Help | Home | Usage


def slack_command(text: str) -> SlackCommand:
    """What follows `/ticket`: nothing (the form), `help`, `list`, `status 42`, `report [client]
    [YYYY-MM]`, or else a quick ticket's title."""
    text = text.strip()
    word = text.lower()
    if not text:
        return NewForm()
    if word in HELP_WORDS:
        return Help()
    if word in LIST_WORDS:
        return ListMine()
    if _STATUS_WORD.match(word):
        return _status(text, SLACK_STATUS_USAGE)
    if _REPORT_WORD.match(word):
        return _report(text[len("report") :])
    return Quick(text)


def teams_message(text: str) -> TeamsCommand:
    """A message to the bot: `ticket` (the form), `ticket <title>`, `list`, `status 42`, `home
    [N]`; anything else, `help` included, asks for the help."""
    text = text.removeprefix("/").strip()
    word, _, rest = text.partition(" ")
    word, rest = word.lower(), rest.strip()
    if word in HOME_WORDS and _HOME_PAGE.match(rest):
        return Home(word, int(rest) - 1 if rest else 0)
    if word in LIST_WORDS and not rest:
        return ListMine()
    if word == "status":
        return _status(text, TEAMS_STATUS_USAGE)
    if word == TEAMS_WORD:
        return Quick(rest) if rest else NewForm()
    return Help()


def _status(text: str, usage: str) -> Status | Usage:
    match = _STATUS.match(text)
    return Usage(usage) if match is None else Status(int(match.group(1)))


def _report(rest: str) -> Report | Usage:
    """`[client name] [YYYY-MM]`: a last word shaped like a month is the month (bad usage when it
    is not a real one); the rest, if any, names the client."""
    words = rest.split()
    month = None
    if words and _MONTH_LIKE.match(words[-1]):
        try:
            month = Month.parse(words.pop())
        except ValueError as e:
            return Usage(f"{e}. {REPORT_USAGE}")
    return Report(" ".join(words) or None, month)
