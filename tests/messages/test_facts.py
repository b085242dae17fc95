from __future__ import annotations

from dataclasses import replace

from bot.messages.facts import MRKDWN, UNKNOWN_CLIENT, card_facts, card_fields, summary_line
from bot.messages.view import PersonRef
from bot.teams.cards import TEAMS_MD
from tests.messages.factories import DANA, EMAIL_ONLY, SAM, make_view


def test_card_facts_are_the_same_rows_on_every_surface() -> None:
    view = make_view(assignee=SAM)
    labels = ["Priority", "State", "Client", "Submitter", "Assignee", "Helpers", "Age", "Affected"]
    assert [label for label, _ in card_facts(view, MRKDWN)] == labels
    assert [label for label, _ in card_facts(view, TEAMS_MD)] == labels


def test_card_facts_mention_in_slack_and_name_in_teams() -> None:
    facts = dict(card_facts(make_view(assignee=SAM), MRKDWN))
    assert facts["Assignee"] == f"<@{SAM.slack_id}>"
    assert facts["Submitter"] == f"<@{DANA.slack_id}>"
    facts = dict(card_facts(make_view(assignee=SAM), TEAMS_MD))
    assert facts["Assignee"] == "Sam Tech"
    assert facts["Submitter"] == f"Dana Client ({DANA.email})"


def test_a_submitter_shown_by_name_gets_their_email() -> None:
    facts = dict(card_facts(make_view(submitter=EMAIL_ONLY), MRKDWN))
    assert facts["Submitter"] == "Pat Contact (pat@northwind.example)"
    nameless = PersonRef("", None, "pat@northwind.example")
    assert dict(card_facts(make_view(submitter=nameless), MRKDWN))["Submitter"] == (
        "pat@northwind.example"
    )


def test_card_facts_escape_for_their_surface() -> None:
    view = make_view(client_name="<b>Acme</b> & co", client_unknown=False)
    assert dict(card_facts(view, MRKDWN))["Client"] == "&lt;b&gt;Acme&lt;/b&gt; &amp; co"
    assert dict(card_facts(view, TEAMS_MD))["Client"] == "<\u200bb>Acme<\u200b/b> & co"
    assert dict(card_facts(replace(view, client_unknown=True), TEAMS_MD))["Client"] == (
        UNKNOWN_CLIENT
    )


def test_card_fields_are_the_facts_as_slack_fields() -> None:
    view = make_view()
    assert card_fields(view) == [f"*{label}*\n{value}" for label, value in card_facts(view, MRKDWN)]


def test_summary_line_reads_the_same_on_both_surfaces() -> None:
    view = make_view(state="in_progress")
    assert summary_line(view, MRKDWN) == "🔴 #12 Internet down at HQ — critical, in progress"
    assert summary_line(view, TEAMS_MD) == summary_line(view, MRKDWN)
