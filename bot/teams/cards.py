"""Adaptive Cards (1.5) for Teams: builders, the technician-channel ticket card, plain replies,
and the Power Automate Workflows envelope. Pure: no I/O.

Buttons route like Slack's: an Action.Execute's verb is the Slack action_id (bot/messages/ids.py)
and its data is `{"ticket": id, "value": …}`; a button that needs a form opens a dialog
(task/fetch).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

from bot.messages import ids
from bot.messages.blocks import FINAL_STATES, PRIORITY_EMOJI
from bot.messages.escape import one_line
from bot.messages.facts import (
    FINAL_LINES,
    Markup,
    card_facts,
    onsite_line,
    resolution_text,
    summary_line,
)
from bot.messages.sla import TEAMS_COLOR, teams_line
from bot.messages.view import (
    PRIORITIES,
    PRIORITY_HELP,
    PersonRef,
    TeamsMention,
    TeamsMessage,
    TicketView,
)
from bot.teams.limits import (
    DESCRIPTION,
    MAX_ACTIONS,
    NAME,
    SUMMARY,
    TITLE,
    Card,
    fit_card,
)
from bot.teams.text import clip, paragraphs, teams_md

Element = dict[str, object]

SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERSION = "1.5"
WEBHOOK_NOTE = (
    "This channel only receives notifications, so it has no buttons: to confirm the fix, or to "
    "say it is still broken, tell your IT provider (reply to their email) and they record it."
)
# Buttons that need a form: they open a dialog (task/fetch) instead of acting at once.
DIALOG_VERBS = frozenset({ids.ASSIGN, ids.DISPATCH, ids.RESOLVE, ids.STILL_BROKEN})


# --- builders -----------------------------------------------------------------------------------


def text_block(text: str, **props: object) -> Element:
    """A wrapping TextBlock of Teams markdown (callers pass safe text: see teams_text)."""
    return {"type": "TextBlock", "text": paragraphs(text) or "—", "wrap": True, **props}


def fact_set(facts: Iterable[tuple[str, str]]) -> Element:
    """Label/value rows (both safe Teams markdown)."""
    return {
        "type": "FactSet",
        "facts": [{"title": title or "—", "value": value or "—"} for title, value in facts],
    }


def execute(verb: str, title: str, data: dict[str, object], style: str | None = None) -> Element:
    """An Action.Execute (arrives as an `adaptiveCard/action` invoke with this verb and data)."""
    action: Element = {
        "type": "Action.Execute",
        "title": one_line(title, 60),
        "verb": verb,
        "data": dict(data),
        "associatedInputs": "none",
    }
    if style:
        action["style"] = style
    return action


def dialog_button(verb: str, title: str, ticket: int, style: str | None = None) -> Element:
    """A button that opens a dialog: Teams sends a `task/fetch` invoke with `verb` and `ticket`."""
    action: Element = {
        "type": "Action.Submit",
        "title": one_line(title, 60),
        "data": {"msteams": {"type": "task/fetch"}, "verb": verb, "ticket": ticket},
        "associatedInputs": "none",
    }
    if style:
        action["style"] = style
    return action


def action_sets(actions: Sequence[Element]) -> list[Element]:
    """ActionSets of at most MAX_ACTIONS each (Teams drops the rest of a longer set)."""
    return [
        {"type": "ActionSet", "actions": list(actions[i : i + MAX_ACTIONS])}
        for i in range(0, len(actions), MAX_ACTIONS)
    ]


def adaptive_card(
    body: Sequence[Element],
    *,
    actions: Sequence[Element] = (),
    fallback_text: str = "",
    msteams: dict[str, object] | None = None,
) -> Card:
    """A top-level card, fitted into MAX_CARD_BYTES (long texts end in "… (truncated)")."""
    card: Card = {"type": "AdaptiveCard", "$schema": SCHEMA_URL, "version": VERSION}
    card["body"] = list(body) or [text_block("—")]
    if actions:
        card["actions"] = list(actions)
    if fallback_text:
        card["fallbackText"] = fallback_text
    if msteams:
        # Teams' own extension (mentions, width): not part of the Adaptive Card schema.
        card["msteams"] = msteams
    return fit_card(card)


def summary(text: str) -> str:
    """A one-line notification text, within SUMMARY."""
    return clip(" ".join(text.split()), SUMMARY) or " "


# --- ticket vocabulary --------------------------------------------------------------------------


def name(person: PersonRef | None, *, default: str = "—") -> str:
    """A person's display name as safe Teams markdown (never a mention)."""
    if person is None:
        return default
    return teams_md(one_line(person.name or person.email or "someone", NAME))


def priority_choice(priority: str) -> str:
    """`🔴 Critical — Many staff can't work, …` for a choice list."""
    return f"{TEAMS_MD.priority(priority)} — {PRIORITY_HELP[priority]}"


def ticket_title(view: TicketView, limit: int = TITLE) -> str:
    return f"#{view.id} {teams_md(one_line(view.title, limit))}"


TEAMS_MD = Markup(text=teams_md, bold="**", person=name, name=name, cut=clip)


# --- the technician-channel ticket card ---------------------------------------------------------


def ticket_card(view: TicketView, *, mention: TeamsMention | None = None) -> TeamsMessage:
    """The ticket card; with `mention` (our config), it notifies that channel, team or tag: the
    card carries the mention, and so do `text` and `entities` for the activity around it.

    Raises ValueError for a mention of an unknown kind or without an id.
    """
    body: list[Element] = []
    msteams: dict[str, object] = {"width": "Full"}
    at, entity = mention_entity(mention) if mention is not None else ("", {})
    if mention is not None:
        emoji = PRIORITY_EMOJI.get(view.priority, "")
        body.append(text_block(f"{at} {emoji} **#{view.id}** needs attention"))
        msteams["entities"] = [entity]
    body.append(text_block(ticket_title(view), size="Large", weight="Bolder", style="heading"))
    body.append(fact_set(card_facts(view, TEAMS_MD)))
    for clock in view.sla:
        color = TEAMS_COLOR.get(clock.status)
        body.append(
            text_block(teams_line(clock), spacing="Small", **({"color": color} if color else {}))
        )
    if view.description.strip():
        body.append(text_block(clip(teams_md(view.description), DESCRIPTION)))
    body += _monitoring_lines(view)
    if view.onsite is not None:
        body.append(text_block(onsite_line(view, TEAMS_MD)))
    if view.resolution_note and view.state in ("awaiting_confirmation", "closed"):
        body.append(text_block(resolution_text(view, TEAMS_MD)))
    if view.state in FINAL_STATES:
        body.append(text_block(FINAL_LINES[view.state], isSubtle=True))
    else:
        body += card_actions(view)
    text = summary(summary_line(view, TEAMS_MD))
    card = adaptive_card(body, fallback_text=text, msteams=msteams)
    if mention is None:
        return TeamsMessage(text=text, card=card)
    # The same mention at the activity level too (text + entities): the form Teams documents for
    # channel and team mentions by bots; the card's own entity covers clients that show only it.
    return TeamsMessage(text=f"{at} {text}", card=card, entities=[dict(entity)])


def mention_entity(mention: TeamsMention) -> tuple[str, dict[str, object]]:
    """The `<at>name</at>` text and its `msteams.entities` item; Teams binds them by that text."""
    if mention.kind not in ("channel", "team", "tag") or not mention.id.strip():
        raise ValueError(f"not a Teams channel, team or tag mention: {mention!r}")
    label = one_line(mention.name, NAME).replace("<", "").replace(">", "") or mention.kind
    at = f"<at>{label}</at>"
    entity: dict[str, object] = {
        "type": "mention",
        "text": at,
        "mentioned": {"id": mention.id, "name": label, "type": mention.kind},
    }
    return at, entity


def _monitoring_lines(view: TicketView) -> list[Element]:
    lines: list[Element] = []
    if view.source == "monitoring":
        line = "📟 Raised by monitoring"
        if view.source_link:
            line += f" · alert source: {teams_md(one_line(view.source_link, 500))}"
        lines.append(text_block(line, isSubtle=True))
    if view.monitoring is not None:
        m = view.monitoring
        last = m.last_seen.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(
            text_block(
                f"📟 Monitoring: {m.firing} of {m.alerts} alert(s) firing · "
                f"{m.notifications} notification(s), the last at {last}",
                isSubtle=True,
            )
        )
    return lines


def card_actions(view: TicketView) -> list[Element]:
    """Two rows of buttons (Teams shows at most 6 per set); a click is checked by the handler."""
    value: dict[str, object] = {"ticket": view.id, "value": str(view.id)}
    first = [
        dialog_button(ids.ASSIGN, "Reassign" if view.assignee else "Assign", view.id),
        execute(ids.START, "Start work", value),
    ]
    if view.priority != "critical":
        first.append(execute(ids.MAKE_CRITICAL, "Make critical", value, "destructive"))
    first.append(_priority_picker(view))
    second = [
        execute(ids.REQUEST_HELP, "Request help", value),
        dialog_button(ids.DISPATCH, "Dispatch onsite", view.id),
        dialog_button(ids.RESOLVE, "Resolve", view.id, "positive"),
    ]
    return action_sets(first) + action_sets(second)


def _priority_picker(view: TicketView) -> Element:
    """Priority: a ShowCard whose choice arrives as data `value` with the Action.Execute."""
    choices: Element = {
        "type": "Input.ChoiceSet",
        "id": "value",
        "label": "Priority",
        "style": "expanded",
        "isRequired": True,
        "errorMessage": "Choose a priority.",
        "choices": [{"title": priority_choice(p), "value": p} for p in PRIORITIES],
    }
    if view.priority in PRIORITIES:
        choices["value"] = view.priority
    submit = execute(ids.SET_PRIORITY, "Set priority", {"ticket": view.id})
    submit["associatedInputs"] = "auto"
    return {
        "type": "Action.ShowCard",
        "title": "Priority",
        "card": {"type": "AdaptiveCard", "body": [choices], "actions": [submit]},
    }


# --- plain replies and the webhook envelope -----------------------------------------------------


def text_reply(raw_text: str) -> TeamsMessage:
    """A plain answer (a refusal, a confirmation); `raw_text` is shown literally."""
    text = teams_md(raw_text)
    return TeamsMessage(text=summary(text), card=adaptive_card([text_block(text)]))


def webhook_envelope(msg: TeamsMessage) -> dict[str, object]:
    """The body to POST to a Power Automate Workflows webhook; buttons are dropped (nobody could
    click them) and replaced by a line telling the reader to answer by email."""
    card = copy.deepcopy(msg.card)
    body = card.get("body")
    removed = card.pop("actions", None) is not None
    if isinstance(body, list):
        kept = _without_actions(body)
        removed = removed or len(kept) != len(body) or kept != body
        if removed:
            kept.append(text_block(WEBHOOK_NOTE, size="Small", isSubtle=True))
        card["body"] = kept or [text_block(msg.text)]
    return {
        "type": "message",
        "attachments": [
            {"contentType": CONTENT_TYPE, "contentUrl": None, "content": fit_card(card)}
        ],
    }


def _without_actions(elements: list[object]) -> list[object]:
    kept: list[object] = []
    for element in elements:
        if not isinstance(element, dict):
            kept.append(element)
            continue
        if element.get("type") == "ActionSet":
            continue
        element = dict(element)
        element.pop("selectAction", None)
        for key in ("items", "columns"):
            inner = element.get(key)
            if isinstance(inner, list):
                element[key] = _without_actions(inner)
        kept.append(element)
    return kept


def with_mention(msg: TeamsMessage, mention: TeamsMention) -> TeamsMessage:
    """`msg` with the technician channel's mention on top (a message raised to critical)."""
    at, entity = mention_entity(mention)
    card = copy.deepcopy(msg.card)
    body = card.get("body")
    card["body"] = [text_block(at), *(body if isinstance(body, list) else [])]
    msteams = card.get("msteams")
    card["msteams"] = {**(msteams if isinstance(msteams, dict) else {}), "entities": [entity]}
    return TeamsMessage(text=f"{at} {msg.text}", card=fit_card(card), entities=[dict(entity)])


def new_ticket_prompt() -> TeamsMessage:
    """The answer to `ticket` alone: a bot opens a dialog only when a button is clicked."""
    text = (
        "Tell us what is wrong: the form asks for a title, details, priority and who is affected."
    )
    action: Element = {
        "type": "Action.Submit",
        "title": "New ticket",
        "data": {"msteams": {"type": "task/fetch"}, "verb": ids.VIEW_CREATE},
        "style": "positive",
    }
    card = adaptive_card([text_block(text), *action_sets([action])], fallback_text=text)
    return TeamsMessage(text=summary("Open the New ticket form"), card=card)
