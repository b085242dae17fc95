"""Our Block Kit messages (messages.py, alerts.py) translated to Adaptive Cards for Teams.

Handles the blocks those modules write: header, section (text, fields, accessory), context,
divider, actions (buttons, static_select) and image. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bot.messages.escape import one_line
from bot.messages.view import SlackMessage, TeamsMessage
from bot.teams.cards import (
    DIALOG_VERBS,
    Element,
    action_sets,
    adaptive_card,
    dialog_button,
    execute,
    fact_set,
    summary,
    text_block,
)
from bot.teams.limits import MAX_CHOICES
from bot.teams.text import slack_to_teams, teams_md

_FIELD = re.compile(r"\*([^*\n]+)\*\n(.*)", re.DOTALL)
_HTTPS = re.compile(r"https://[^\s<>\"]+")
_STYLES = {"primary": "positive", "danger": "destructive"}


def from_slack(msg: SlackMessage, names: Mapping[str, str]) -> TeamsMessage:
    """The same message for Teams. `names`: Slack user id → display name (others: "someone").

    A button's verb is its Slack action_id, with data `{"ticket": id, "value": value}` (`ticket`
    only when the value is a ticket id); a button that needs a form (DIALOG_VERBS: Still broken,
    and Assign, Dispatch onsite, Resolve on a translated Slack card) opens a dialog (task/fetch).
    """
    body: list[Element] = []
    separator = False
    for block in msg.blocks:
        if block.get("type") == "divider":
            separator = True
            continue
        elements = _block(block, names)
        if separator and elements:
            elements[0]["separator"] = True
            separator = False
        body += elements
    text = summary(slack_to_teams(msg.text, names))
    return TeamsMessage(
        text=text, card=adaptive_card(body or [text_block(text)], fallback_text=text)
    )


def _text(obj: object, names: Mapping[str, str]) -> str:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return ""
    if obj.get("type") == "mrkdwn":
        return slack_to_teams(obj["text"], names)
    return teams_md(obj["text"])


def _block(block: Mapping[str, object], names: Mapping[str, str]) -> list[Element]:
    kind = block.get("type")
    if kind == "header":
        text = _text(block.get("text"), names)
        return [text_block(text, size="Large", weight="Bolder", style="heading")]
    if kind == "section":
        return _section(block, names)
    if kind == "context":
        parts = [_context_part(e, names) for e in _list(block.get("elements"))]
        return [text_block(" · ".join(p for p in parts if p), size="Small", isSubtle=True)]
    if kind == "actions":
        return action_sets([a for e in _list(block.get("elements")) if (a := _action(e, names))])
    if kind == "image":
        return [_image(block.get("image_url"), block.get("alt_text"))]
    text = _text(block.get("text"), names)
    return [text_block(text)] if text else []


def _section(block: Mapping[str, object], names: Mapping[str, str]) -> list[Element]:
    out: list[Element] = []
    if block.get("text"):
        out.append(text_block(_text(block.get("text"), names)))
    fields = [f for f in _list(block.get("fields")) if isinstance(f, dict)]
    if fields:
        raw = [str(f.get("text", "")) for f in fields]
        parsed = [_FIELD.fullmatch(r) for r in raw]
        if all(parsed):
            out.append(
                fact_set(
                    (slack_to_teams(m.group(1), names), slack_to_teams(m.group(2), names))
                    for m in parsed
                    if m
                )
            )
        else:
            out += [text_block(_text(f, names)) for f in fields]
    accessory = block.get("accessory")
    if isinstance(accessory, dict) and (action := _action(accessory, names)):
        out += action_sets([action])
    return out


def _context_part(element: object, names: Mapping[str, str]) -> str:
    if isinstance(element, dict) and element.get("type") == "image":
        return teams_md(str(element.get("alt_text", "")))
    return _text(element, names)


def _image(url: object, alt: object) -> Element:
    alt_text = one_line(str(alt or ""), 200)
    if isinstance(url, str) and _HTTPS.fullmatch(url):
        return {"type": "Image", "url": url, "altText": alt_text}
    return text_block(teams_md(alt_text) or "—", isSubtle=True)


def _action(element: object, names: Mapping[str, str]) -> Element | None:
    if not isinstance(element, dict):
        return None
    verb = str(element.get("action_id", ""))
    title = one_line(_plain(element.get("text")), 60) or "—"
    style = _STYLES.get(str(element.get("style", "")))
    if element.get("type") == "button":
        url = element.get("url")
        if isinstance(url, str) and _HTTPS.fullmatch(url):
            return {"type": "Action.OpenUrl", "title": title, "url": url}
        value = str(element.get("value", ""))
        ticket = int(value) if value.isdigit() else None
        if verb in DIALOG_VERBS and ticket is not None:
            return dialog_button(verb, title, ticket, style)
        data: dict[str, object] = {"value": value}
        if ticket is not None:
            data = {"ticket": ticket, "value": value}
        return execute(verb, title, data, style)
    if element.get("type") == "static_select":
        return _select(verb, element)
    return None


def _plain(obj: object) -> str:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        return str(obj["text"])
    return ""


def _select(verb: str, element: Mapping[str, object]) -> Element:
    """A static_select: a ShowCard of the choices and an Action.Execute (choice → data `value`)."""
    options = [o for o in _list(element.get("options")) if isinstance(o, dict)][:MAX_CHOICES]
    choices: Element = {
        "type": "Input.ChoiceSet",
        "id": "value",
        "isRequired": True,
        "choices": [
            {
                "title": teams_md(one_line(_plain(o.get("text")), 150)) or "—",
                "value": str(o["value"]),
            }
            for o in options
            if "value" in o
        ],
    }
    initial = element.get("initial_option")
    if isinstance(initial, dict) and "value" in initial:
        choices["value"] = str(initial["value"])
    title = one_line(_plain(element.get("placeholder")), 60) or "Choose"
    submit = execute(verb, "Save", {})
    submit["associatedInputs"] = "auto"
    return {
        "type": "Action.ShowCard",
        "title": title,
        "card": {"type": "AdaptiveCard", "body": [choices], "actions": [submit]},
    }


def _list(value: object) -> Sequence[object]:
    return value if isinstance(value, list) else []
