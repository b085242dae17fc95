"""A ticket's facts as every card shows them — (label, value) rows, the onsite and resolution
lines, the one-line summary — written once; each surface passes its `Markup` (how it escapes, bolds
and shows people). Slack's mrkdwn fields, which chat messages use too, are `card_fields`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.messages.blocks import (
    PRIORITY_EMOJI,
    affected_label,
    age,
    name_of,
    people,
    priority_label,
    state_label,
    who,
)
from bot.messages.escape import mrkdwn, one_line, truncate
from bot.messages.view import PersonRef, TicketView

UNKNOWN_CLIENT = "⚠️ Unknown company — manager: please check"
FINAL_LINES = {
    "closed": "🏁 Closed — confirmed fixed. This card is final.",
    "cancelled": "🚫 Cancelled. This card is final.",
}
ONSITE_NOTE = 1000  # characters of the onsite note a card shows
RESOLUTION_NOTE = 2000  # and of the resolution note


@dataclass(frozen=True)
class Markup:
    """How one surface writes text on a card."""

    text: Callable[[str], str]  # raw user text → safe text of the surface
    bold: str  # the bold marker
    person: Callable[[PersonRef], str]  # someone as the surface shows them (Slack: a mention)
    name: Callable[[PersonRef], str]  # someone's name, never a mention
    cut: Callable[[str, int], str]  # safe text within a length, cut visibly

    def priority(self, priority: str) -> str:
        return priority_label(priority, self.text)

    def state(self, state: str) -> str:
        return state_label(state, self.text)

    def people(self, persons: Sequence[PersonRef], budget: int = 1000) -> str:
        return people(persons, budget, show=self.person)


MRKDWN = Markup(text=mrkdwn, bold="*", person=who, name=name_of, cut=truncate)


def card_facts(view: TicketView, markup: Markup) -> list[tuple[str, str]]:
    """Priority, state, client, submitter, assignee, helpers, age, affected."""
    return [
        ("Priority", markup.priority(view.priority)),
        ("State", markup.state(view.state)),
        ("Client", _client(view, markup)),
        ("Submitter", _submitter(view, markup)),
        ("Assignee", markup.person(view.assignee) if view.assignee else "Unassigned"),
        ("Helpers", markup.people(view.helpers)),
        ("Age", age(view.created_at, view.now)),
        ("Affected", affected_label(view.affected, markup.text)),
    ]


def card_fields(view: TicketView) -> list[str]:
    """The facts as Slack section fields (`*Priority*\\n🔴 Critical`)."""
    return [f"*{label}*\n{value}" for label, value in card_facts(view, MRKDWN)]


def _client(view: TicketView, markup: Markup) -> str:
    if view.client_unknown:
        return UNKNOWN_CLIENT
    if not view.client_name:
        return "—"
    client = markup.text(one_line(view.client_name, 200))
    if view.client_match:
        client += f" ({markup.text(one_line(view.client_match, 200))})"
    return client


def _submitter(view: TicketView, markup: Markup) -> str:
    submitter = view.submitter
    shown = markup.person(submitter)
    # Shown by name (no mention to click): the email says who it is.
    if shown == markup.name(submitter) and submitter.name and submitter.email:
        shown += f" ({markup.text(one_line(submitter.email, 200))})"
    return shown


def onsite_line(view: TicketView, markup: Markup) -> str:
    """Who is on the way and when, with their note; "" when nobody was sent."""
    if view.onsite is None:
        return ""
    b = markup.bold
    eta = markup.text(one_line(view.onsite.eta, 100))
    line = f"🚗 {b}Onsite:{b} {markup.person(view.onsite.who)} is on the way, ETA {eta}"
    if view.onsite.note.strip():
        line += "\n" + markup.cut(markup.text(view.onsite.note), ONSITE_NOTE)
    return line


def resolution_text(view: TicketView, markup: Markup) -> str:
    """How the fix was verified, under a lead that says whether it awaits confirmation."""
    b = markup.bold
    note = markup.cut(markup.text(view.resolution_note or ""), RESOLUTION_NOTE)
    lead = f"✅ {b}Resolved — how it was verified:{b}"
    if view.state == "awaiting_confirmation":
        lead = f"⏳ {b}Resolved, awaiting confirmation — how it was verified:{b}"
    return f"{lead}\n{note}"


def summary_line(view: TicketView, markup: Markup) -> str:
    """`🔴 #12 Internet down at HQ — critical, new`."""
    emoji = PRIORITY_EMOJI.get(view.priority, "")
    title = markup.text(one_line(view.title, 200))
    priority = markup.text(one_line(view.priority, 30))
    return f"{emoji} #{view.id} {title} — {priority}, {markup.state(view.state).lower()}".strip()
