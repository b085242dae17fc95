"""`ticketbot demo`: the critical-ticket lifecycle end to end, locally, with no accounts.

Runs the real bot over HTTP against the Slack emulator and a local SMTP server on 127.0.0.1, on a
throw-away SQLite database, and prints what every party saw.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from bot.messages import ids
from bot.sandbox.slack.render import render_text
from bot.sandbox.stack import CAST, Stack


def run_demo(out: TextIO, *, quiet: bool = False, err: TextIO | None = None) -> int:
    """Play the lifecycle; 0 when every step went as expected, else 1 with the failed step."""
    started = time.monotonic()
    steps: _Steps | None = None
    try:
        with (
            tempfile.TemporaryDirectory(prefix="ticketbot-demo-") as tmp,
            Stack(database_url=f"sqlite:///{Path(tmp) / 'demo.db'}") as stack,
        ):
            steps = _Steps(stack, out, quiet)
            steps.play()
            steps.step = "printing what every party saw"
            if not quiet:
                _transcript(stack, out)
            _summary(stack, out, time.monotonic() - started)
    except Exception as e:  # any failure: one clear line naming the step, not a traceback
        return failed(err, steps.step if steps else STARTING, e)
    return 0


STARTING = "starting the local Slack, SMTP server and bot"


def failed(err: TextIO | None, step: str, error: Exception) -> int:
    """Say which demo step failed and why; the exit status for it."""
    kind = "" if isinstance(error, AssertionError) else f"{type(error).__name__}: "
    (err or sys.stderr).write(f"ticketbot demo: failed at “{step}”: {kind}{error}\n")
    return 1


class TechnicianSteps:
    """What the MSP's people do in Slack, shared by both demos; `say` names the step."""

    def __init__(self, stack: Stack, out: TextIO, quiet: bool, starting: str) -> None:
        self.stack, self.emu, self.out, self.quiet = stack, stack.emu, out, quiet
        self.step = starting

    def say(self, text: str) -> None:
        self.step = text
        if not self.quiet:
            self.out.write(f"▶ {text}\n")

    def settle(self) -> None:
        self.stack.wait_delivered()

    def card_ts(self) -> str:
        for msg in self.emu.messages(CAST.tech_channel):
            if has_action(msg.blocks, ids.ASSIGN) or msg.text.startswith("<!here>"):
                return str(msg.ts)
        raise AssertionError("no ticket card in the Slack technician channel")

    def assign(self, card: str) -> None:
        c, emu = CAST, self.emu
        self.say("Maya (manager) clicks Assign on the card and picks Tom")
        check_ok(emu.click(c.manager, c.tech_channel, card, ids.ASSIGN))
        check_ok(emu.submit_view(c.manager, values={"assignee": c.tech1}))
        self.settle()

    def update(self, card: str, mirrored: str) -> None:
        c, emu = CAST, self.emu
        self.say(f"Tom replies in the card's thread ({mirrored})")
        emu.post_message(
            c.tech1,
            c.tech_channel,
            "On it. The ISP reports an outage in your area; I'm checking your router now.",
            thread_ts=card,
        )
        self.say("Tom adds an internal note (recorded, not mirrored)")
        emu.post_message(
            c.tech1,
            c.tech_channel,
            "internal: router admin password is in the vault",
            thread_ts=card,
        )
        self.settle()

    def get_help_and_dispatch(self, card: str) -> None:
        c, emu = CAST, self.emu
        self.say("Tom clicks Request help; Tara clicks I can help")
        check_ok(emu.click(c.tech1, c.tech_channel, card, ids.REQUEST_HELP))
        self.settle()
        help_post = next(
            (m for m in emu.messages(c.tech_channel) if has_action(m.blocks, ids.OFFER_HELP)),
            None,
        )
        if help_post is None:
            raise AssertionError("no help request in the technician channel")
        check_ok(emu.click(c.tech2, c.tech_channel, help_post.ts, ids.OFFER_HELP))
        self.say("Tom dispatches Tara onsite, ETA 10:45")
        check_ok(emu.click(c.tech1, c.tech_channel, card, ids.DISPATCH))
        check_ok(
            emu.submit_view(
                c.tech1,
                values={
                    "onsite_who": c.tech2,
                    "onsite_eta": "10:45",
                    "onsite_note": "Bringing a spare router.",
                },
            )
        )
        self.settle()

    def resolve(self, card: str) -> None:
        c, emu = CAST, self.emu
        self.say("Tom resolves, saying how the fix was verified")
        check_ok(emu.click(c.tech1, c.tech_channel, card, ids.RESOLVE))
        check_ok(
            emu.submit_view(
                c.tech1,
                values={
                    "verification": "ISP confirmed service restored at 10:52; "
                    "Tara tested browsing and calls from two desks."
                },
            )
        )
        self.settle()


class _Steps(TechnicianSteps):
    def __init__(self, stack: Stack, out: TextIO, quiet: bool) -> None:
        super().__init__(stack, out, quiet, STARTING)

    def client_root_ts(self) -> str:
        for msg in self.emu.messages(CAST.client_channel):
            if msg.bot_id and "received" in msg.text:
                return str(msg.ts)
        raise AssertionError("no client thread")

    def play(self) -> None:
        c, emu = CAST, self.emu
        self.say("Erin (Acme Corp) types /ticket in #acme-help; the New ticket modal opens")
        check_ok(emu.slash_command(c.employee, c.client_channel, ""))
        self.say("Erin reports: Internet down at HQ — critical, everyone affected")
        check_ok(
            emu.submit_view(
                c.employee,
                values={
                    "title": "Internet down at HQ",
                    "description": "No internet on any floor since 9:10. Phones are down too.",
                    "priority": "critical",
                    "affected": "all",
                },
            )
        )
        self.settle()
        card = self.card_ts()
        self.assign(card)
        self.update(card, "mirrored to Erin and emailed")
        self.say("Erin answers in her thread (mirrored to the technicians)")
        emu.post_message(
            c.employee,
            c.client_channel,
            "Thanks! Reception can't take calls either.",
            thread_ts=self.client_root_ts(),
        )
        self.get_help_and_dispatch(card)
        self.resolve(card)
        self.say("Erin clicks Confirm fixed in her thread; everyone involved is told")
        confirm = next(
            m
            for m in emu.replies(c.client_channel, self.client_root_ts())
            if has_action(m.blocks, ids.CONFIRM)
        )
        check_ok(emu.click(c.employee, c.client_channel, confirm.ts, ids.CONFIRM))
        self.settle()


def check_ok(delivery: Any) -> None:
    status = getattr(delivery, "status", 200)
    if status != 200:
        raise AssertionError(f"the bot answered {status}: {getattr(delivery, 'body', '')}")
    data = getattr(delivery, "json", None) or {}
    if isinstance(data, dict) and data.get("response_action") == "errors":
        raise AssertionError(f"the bot refused the form: {data.get('errors')}")


def has_action(blocks: Any, action_id: str) -> bool:
    for block in blocks or []:
        for element in block.get("elements", []) or []:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return True
    return False


def _transcript(stack: Stack, out: TextIO) -> None:
    c = CAST
    print_slack(stack, out, [(c.tech_channel, TECH_TITLE), (c.client_channel, CLIENT_TITLE)])
    print_mail(stack, out)
    answer = stack.emu.slash_command(c.employee, c.client_channel, "status 1")
    out.write("\n══ Erin types `/ticket status 1` (only she sees the answer) ══\n")
    out.write(render_text(answer.json or {}, names=_names()).strip() + "\n")


PING = re.compile(r"<!(here|channel|everyone)>")
TECH_TITLE = "#technicians — what the technicians saw"
CLIENT_TITLE = "#acme-help — what Erin and her colleagues saw"


def _people() -> dict[str, str]:
    c = CAST
    return {
        c.manager: "Maya (manager)",
        c.tech1: "Tom (technician)",
        c.tech2: "Tara (technician)",
        c.employee: "Erin (Acme employee)",
        c.contact: "Carl (Acme primary contact)",
    }


def _names() -> dict[str, str]:
    return {uid: label.split(" ")[0] for uid, label in _people().items()}


def print_slack(stack: Stack, out: TextIO, channels: list[tuple[str, str]]) -> None:
    """The Slack `channels` (id, title) with their threads, then every DM of the cast."""
    emu, people, names = stack.emu, _people(), _names()

    def show(msg: Any, indent: str) -> None:
        who = "ticketbot" if msg.bot_id else people.get(msg.user or "", msg.user or "?")
        updated = f" (updated {len(msg.updates)}×)" if msg.updates else ""
        # The text of the message as first posted pings the channel (blocks don't show it, and
        # Slack notifies only on the post, not on updates).
        posted = msg.updates[0] if msg.updates else msg
        pings = "".join(f" (pings @{m})" for m in PING.findall(posted.text or ""))
        lines = (render_text(msg, names=names).strip() or msg.text).splitlines() or [""]
        out.write(f"{indent}[{who}]{pings}{updated} {lines[0]}\n")
        pad = " " * len(indent) if indent else ""
        for line in lines[1:]:
            out.write(f"{pad}    {line}\n")

    for channel_id, title in channels:
        out.write(f"\n══ {title} ══\n")
        for msg in emu.messages(channel_id):
            show(msg, "")
            for reply in emu.replies(channel_id, msg.ts):
                show(reply, "    ↳ ")
    for user, label in people.items():
        dms = emu.dms(user)
        if dms:
            out.write(f"\n══ DMs to {label} ══\n")
            for dm in dms:
                show(dm, "")


def print_mail(stack: Stack, out: TextIO) -> None:
    """Every email, grouped by message (all its recipients), with the first lines of its body."""
    if stack.mail is None:
        return
    out.write("\n══ Emails — one thread per ticket (Message-ID, In-Reply-To, References) ══\n")
    grouped: dict[str, tuple[Any, list[str]]] = {}
    for mail in stack.mail.messages:
        email = mail.message
        entry = grouped.setdefault(str(email["Message-ID"]), (email, []))
        entry[1].extend(mail.rcpt_tos)
    for message_id, (email, to) in grouped.items():
        out.write(f"\n✉ {email['Subject']}  →  {', '.join(sorted(set(to)))}\n")
        reply = f"   In-Reply-To: {email['In-Reply-To']}" if email["In-Reply-To"] else ""
        out.write(f"  Message-ID: {message_id}{reply}\n")
        body = email.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        for line in [x for x in text.strip().splitlines() if x.strip()][:3]:
            out.write(f"  | {line}\n")


def slack_and_mail_counts(stack: Stack) -> tuple[int, int, int]:
    """(Slack posts, in-place Slack updates, emails) the bot made."""
    calls = stack.emu.calls
    posts = sum(1 for call in calls if call.method == "chat.postMessage" and call.ok)
    updates = sum(1 for call in calls if call.method == "chat.update" and call.ok)
    mails = len(stack.mail.messages) if stack.mail is not None else 0
    return posts, updates, mails


def _summary(stack: Stack, out: TextIO, seconds: float) -> None:
    posts, updates, mails = slack_and_mail_counts(stack)
    out.write(
        f"\nDemo finished in {seconds:.1f} s: ticket closed after confirmation; "
        f"{posts} Slack posts, {updates} in-place card updates, {mails} emails.\n"
    )
