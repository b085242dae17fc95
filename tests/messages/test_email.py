from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.messages import email
from bot.messages.view import EmailContent, OnsiteView
from tests.messages.factories import DANA, LEE, SAM, make_view

HOSTILE = make_view(
    title="Printer\r\nBcc: victim@example.com <script>",
    description="<b>bold</b> & more\n\nsecond paragraph",
    assignee=SAM,
    onsite=OnsiteView(who=LEE, eta="20 min", note="<i>note</i>"),
    resolution_note="Tested <ok>",
    source="monitoring",
    source_link="https://alerts.example/x?a=1&b=<2>",
)


def every_email() -> list[EmailContent]:
    v = HOSTILE
    return [
        email.received(v),
        email.critical_alert(v),
        email.assigned(v),
        email.update(v, SAM, "Rebooted <router> & tested"),
        email.onsite(v),
        email.awaiting_confirmation(v),
        email.reopened(v, DANA, "still <broken>"),
        email.closed(v, DANA),
    ]


@pytest.mark.parametrize("content", every_email(), ids=lambda c: c.text[:25])
def test_every_email_has_a_frozen_one_line_subject_and_escaped_html(content: EmailContent) -> None:
    assert content.subject == "[#12] Printer Bcc: victim@example.com <script>"
    assert "<script>" not in content.html
    assert "<b>" not in content.html and "<i>" not in content.html
    assert "Reply in Slack, or contact your IT provider" in content.text
    assert "Reply in Slack, or contact your IT provider" in content.html


def test_ticket_email_layout() -> None:
    content = email.ticket_email(
        make_view(assignee=SAM), "Headline", "First para\nline 2\n\nSecond", action_hint="Do it"
    )
    assert content.text.startswith("Headline\n\nFirst para\nline 2\n\nSecond\n\nDo it\n\n")
    assert "Priority: 🔴 critical\nState: New\nClient: Northwind Dental\nAssignee: Sam Tech" in (
        content.text
    )
    assert '<p style="margin:0 0 12px 0">First para<br>\nline 2</p>' in content.html
    assert "<td>Sam Tech</td>" in content.html


def test_update_email_carries_the_plain_text() -> None:
    content = email.update(make_view(), SAM, "Rebooted <router> & tested")
    assert "Rebooted <router> & tested" in content.text
    assert "Rebooted &lt;router&gt; &amp; tested" in content.html


def test_awaiting_confirmation_asks_to_confirm_in_slack() -> None:
    content = email.awaiting_confirmation(make_view(resolution_note="ISP confirmed"))
    assert "ISP confirmed" in content.text
    assert "Confirm fixed" in content.text


def test_huge_body_is_truncated_visibly() -> None:
    content = email.received(make_view(description="x" * 100_000))
    assert len(content.text) < 25_000
    assert "… (truncated)" in content.text


@given(st.text(max_size=400))
def test_subject_is_always_one_line(title: str) -> None:
    subject = email.subject(make_view(title=title))
    assert len(subject) <= 200
    assert subject.splitlines() in ([], [subject])
    assert "\r" not in subject and "\n" not in subject


def test_subject_works_in_an_email_message_header() -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = email.subject(make_view(title="a\u2028b\x85c\rd\ne" * 50))
    assert "\n" not in str(message["Subject"])
