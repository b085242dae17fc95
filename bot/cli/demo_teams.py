"""`ticketbot demo --teams`: the critical-ticket lifecycle with the employee in Teams and the
technicians in Slack, through the real bot over HTTP (`POST /api/messages` signed by the local Bot
Connector stand-in), printing what every party saw.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from bot.cli.demo_slack import (
    TECH_TITLE,
    TechnicianSteps,
    failed,
    print_mail,
    print_slack,
    slack_and_mail_counts,
)
from bot.messages import ids
from bot.sandbox.stack import CAST, Stack, TeamsCast
from bot.sandbox.teams.adaptive_text import actions, buttons, card_lines
from bot.sandbox.teams.connector import BotConnector
from bot.sandbox.teams.records import JSON, PostedActivity, TeamsUser

STARTING = "starting the local Slack, Bot Connector, SMTP server and bot"


def run_teams_demo(out: TextIO, *, quiet: bool = False, err: TextIO | None = None) -> int:
    """Play the lifecycle; 0 when every step went as expected, else 1 with the failed step."""
    started = time.monotonic()
    steps: _Steps | None = None
    try:
        with (
            tempfile.TemporaryDirectory(prefix="ticketbot-demo-") as tmp,
            Stack(database_url=f"sqlite:///{Path(tmp) / 'demo.db'}", teams=True) as stack,
        ):
            steps = _Steps(stack, out, quiet)
            steps.play()
            steps.step = "printing what every party saw"
            if not quiet:
                _transcript(stack, steps, out)
            _summary(stack, steps, out, time.monotonic() - started)
    except Exception as e:  # any failure: one clear line naming the step, not a traceback
        return failed(err, steps.step if steps else STARTING, e)
    return 0


class _Steps(TechnicianSteps):
    def __init__(self, stack: Stack, out: TextIO, quiet: bool) -> None:
        super().__init__(stack, out, quiet, STARTING)
        assert stack.teams is not None and stack.teams_cast is not None
        self.teams: BotConnector = stack.teams
        self.tc: TeamsCast = stack.teams_cast
        self.posted = 0  # activities Teams delivered to the bot
        self.erin_did: list[tuple[int, str]] = []  # (messages in her chat by then, what she did)

    def post(self, activity: JSON) -> Any:
        """Deliver `activity` as Teams does; the bot must answer 200."""
        status, body = self.stack.teams_post(activity)
        self.posted += 1
        if status != 200:
            raise AssertionError(f"the bot answered {status} to a Teams {activity['type']}: {body}")
        return body

    def erin(self, what: str) -> None:
        """Note what Erin did in her chat, to show it between the bot's messages."""
        self.erin_did.append((len(self.teams.chat_with(self.tc.employee)), what))

    def erin_chat(self) -> list[PostedActivity]:
        return self.teams.chat_with(self.tc.employee)

    def play(self) -> None:
        self.open_ticket()
        card = self.card_ts()
        self.assign(card)
        self.update(card, "sent to Erin's Teams chat and emailed")
        self.answer_by_quoting()
        self.get_help_and_dispatch(card)
        self.resolve(card)
        self.confirm_fixed()
        self.say("Erin types `status 1` in her chat")
        self.erin("status 1")
        self.post(self.teams.activities.personal_message(self.tc.employee, "status 1"))
        self.settle()

    def open_ticket(self) -> None:
        tc, acts = self.tc, self.teams.activities
        chat = acts.personal(tc.employee)
        self.say("Erin (Acme Corp) types `ticket` in her Teams chat with the bot")
        self.erin("ticket")
        self.post(acts.personal_message(tc.employee, "ticket"))
        prompt = self.teams.wait_for(self.erin_chat)[-1]
        new_ticket = _action(prompt, ids.VIEW_CREATE)
        self.say(f"Erin clicks {new_ticket.get('title')}; the New ticket dialog opens")
        opened = self.post(acts.task_fetch(tc.employee, chat, dict(new_ticket["data"])))
        if not isinstance(opened, dict) or opened.get("task", {}).get("type") != "continue":
            raise AssertionError(f"no dialog opened: {opened}")
        dialog = opened["task"]["value"]
        fields = [line for line in card_lines(dialog["card"]["content"]) if line.startswith("[")]
        self.erin(
            f"clicked {new_ticket.get('title')}; the dialog “{dialog.get('title')}” asks for "
            + " ".join(fields)
        )
        self.say("Erin reports: Internet down at HQ — critical, everyone affected")
        done = self.post(
            acts.task_submit(
                tc.employee,
                chat,
                {
                    "verb": ids.VIEW_CREATE,
                    "title": "Internet down at HQ",
                    "description": "No internet on any floor since 9:10. Phones are down too.",
                    "priority": "critical",
                    "affected": "all",
                },
            )
        )
        task = done.get("task") if isinstance(done, dict) else None
        if not isinstance(task, dict) or "#1" not in str(task.get("value")):
            raise AssertionError(f"the dialog did not confirm ticket #1: {done}")
        self.erin(
            "submitted “Internet down at HQ” (critical, everyone affected); "
            f"the dialog closed saying “{task['value']}”"
        )
        self.settle()

    def answer_by_quoting(self) -> None:
        self.say(
            "Erin answers by quoting the bot's message in her chat (reaches the card's thread)"
        )
        quoted = _received(self.erin_chat())
        answer = "Thanks! Reception can't take calls either."
        self.erin(f"quoted “{_first_line(quoted)}” and wrote: {answer}")
        self.post(
            self.teams.activities.personal_message(self.tc.employee, answer, replyToId=quoted.id)
        )
        self.settle()

    def confirm_fixed(self) -> None:
        tc, acts = self.tc, self.teams.activities
        self.say("Erin clicks Confirm fixed in her Teams chat; everyone involved is told")
        confirm = next((m for m in reversed(self.erin_chat()) if _has_verb(m, ids.CONFIRM)), None)
        if confirm is None:
            raise AssertionError("no Confirm fixed button in Erin's Teams chat")
        button = _action(confirm, ids.CONFIRM)
        self.erin(f"clicked {button.get('title')}")
        self.post(
            acts.card_action(
                tc.employee,
                acts.personal(tc.employee),
                ids.CONFIRM,
                dict(button.get("data") or {}),
                confirm.id,
            )
        )
        self.settle()
        if "closed" not in " ".join(_lines(self.erin_chat()[-1])).lower():
            raise AssertionError("Erin was not told that her ticket is closed")


def _verb(action: JSON) -> str | None:
    data = action.get("data")
    verb = action.get("verb") or (data.get("verb") if isinstance(data, dict) else None)
    return str(verb) if verb else None


def _has_verb(posted: PostedActivity, verb: str) -> bool:
    return any(_verb(a) == verb for a in actions(posted.cards))


def _action(posted: PostedActivity, verb: str) -> JSON:
    for action in actions(posted.cards):
        if _verb(action) == verb:
            return action
    raise AssertionError(f"no {verb} button on the bot's message: {_lines(posted)}")


def _received(chat: list[PostedActivity]) -> PostedActivity:
    for posted in chat:
        if "received" in " ".join(_lines(posted)).lower():
            return posted
    raise AssertionError("Erin's chat has no 'ticket received' message to quote")


def _lines(posted: PostedActivity) -> list[str]:
    """The message as its reader sees it: text, each card's lines, then its buttons."""
    lines = [line for line in posted.text.splitlines() if line.strip()]
    for card in posted.cards:
        lines.extend(line for line in card_lines(card) if line.strip())
        titles = buttons(card)
        if titles:
            lines.append("buttons: " + "  ".join(f"[{t}]" for t in titles))
    return lines or ["(empty)"]


def _first_line(posted: PostedActivity) -> str:
    return _lines(posted)[0]


def _transcript(stack: Stack, steps: _Steps, out: TextIO) -> None:
    teams, tc = steps.teams, steps.tc
    out.write("\n══ Erin's Teams chat with the bot — what Erin saw ══\n")
    chat = teams.chat_with(tc.employee)
    did = list(steps.erin_did)
    for index, posted in enumerate([*chat, None]):
        while did and did[0][0] <= index:
            out.write(f"[Erin] {did.pop(0)[1]}\n")
        if posted is not None:
            _show(posted, out)
    people: list[tuple[TeamsUser, str]] = [
        (tc.contact, "Carl (Acme primary contact)"),
        (tc.manager, "Maya (manager)"),
        (tc.tech1, "Tom (technician)"),
        (tc.tech2, "Tara (technician)"),
    ]
    for user, label in people:
        other = teams.chat_with(user)
        if other:
            out.write(f"\n══ {label}'s Teams chat with the bot ══\n")
            for posted in other:
                _show(posted, out)
    print_slack(stack, out, [(CAST.tech_channel, f"Slack {TECH_TITLE}")])
    print_mail(stack, out)


def _show(posted: PostedActivity, out: TextIO) -> None:
    updated = f" (updated {len(posted.versions)}×)" if posted.versions else ""
    first, *rest = _lines(posted)
    out.write(f"[ticketbot]{updated} {first}\n")
    for line in rest:
        out.write(f"    {line}\n")


def _summary(stack: Stack, steps: _Steps, out: TextIO, seconds: float) -> None:
    posts, _, mails = slack_and_mail_counts(stack)
    sent = steps.teams.posted()
    updated = sum(1 for p in sent if p.versions)
    out.write(
        f"\nTeams demo finished in {seconds:.1f} s: ticket closed after confirmation; "
        f"{steps.posted} Teams activities posted to the bot, {len(sent)} Teams messages from "
        f"the bot ({updated} updated in place), {posts} Slack posts, {mails} emails.\n"
    )
