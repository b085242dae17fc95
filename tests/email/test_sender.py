"""The SMTP adapter's message: threaded headers, both parts, and no draw from the caller's
global random generator (a background send must not disturb a test's seeded randomness)."""

from __future__ import annotations

import random
from email import message_from_bytes

from bot.email.sender import build_message

PAYLOAD = {
    "to": "erin@acme.example",
    "subject": "[#7] Printer jammed",
    "message_id": "<ticket-7.1@msp.example>",
    "in_reply_to": "<ticket-7@msp.example>",
    "references": "<ticket-7@msp.example>",
    "text": "Fixed.",
    "html": "<p>Fixed.</p>",
    "ticket_id": 7,
}


def test_a_message_is_built_and_serialized_without_the_global_random_generator() -> None:
    random.seed(11)
    before = random.getstate()
    raw = build_message(PAYLOAD, "helpdesk@msp.example").as_bytes()
    assert random.getstate() == before
    parsed = message_from_bytes(raw)
    assert parsed["Message-ID"] == "<ticket-7.1@msp.example>"
    assert parsed["In-Reply-To"] == "<ticket-7@msp.example>"
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
