"""Adaptive Cards read as plain text for the demo transcript."""

from __future__ import annotations

from bot.sandbox.teams.adaptive_text import actions, buttons, card_lines
from bot.teams.cards import action_sets, adaptive_card, dialog_button, execute, fact_set, text_block


def test_text_facts_inputs_and_nested_containers_become_lines() -> None:
    card = {
        "type": "AdaptiveCard",
        "body": [
            {"type": "TextBlock", "text": "**#1** Internet down\nsince 9:10"},
            {"type": "FactSet", "facts": [{"title": "Priority", "value": "Critical"}]},
            {
                "type": "ColumnSet",
                "columns": [{"type": "Column", "items": [{"type": "TextBlock", "text": "left"}]}],
            },
            {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "rich "}, "text"]},
            {"type": "Input.Text", "id": "title", "label": "Title"},
            {"type": "Image", "url": "https://x.example/a.png", "altText": "chart"},
        ],
    }
    assert card_lines(card) == [
        "**#1** Internet down",
        "since 9:10",
        "Priority: Critical",
        "left",
        "rich text",
        "[Title: ____]",
        "[image: chart]",
    ]


def test_buttons_in_action_sets_and_on_the_card_in_order() -> None:
    card = adaptive_card(
        [
            text_block("Resolved"),
            fact_set([("State", "Resolved")]),
            *action_sets([execute("ticket.confirm", "Confirm fixed", {"ticket": 1})]),
        ],
        actions=[dialog_button("ticket.still_broken", "Still broken", 1)],
    )
    assert buttons(card) == ["Confirm fixed", "Still broken"]
    assert card_lines(card) == ["Resolved", "State: Resolved"]
    assert [a["type"] for a in actions([card])] == ["Action.Execute", "Action.Submit"]
