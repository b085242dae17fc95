"""What a ticket's text may hold: the title and text caps, and the control characters stripped
from whatever people and monitoring send. Pure: imports only the standard library."""

from __future__ import annotations

import re

TITLE_MAX = 150
TEXT_MAX = 40_000
# C0/C1 controls other than tab and newline: nobody types them, and PostgreSQL rejects NUL.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str | None) -> str:
    """User text without control characters, trimmed and capped."""
    return CONTROL_CHARS.sub("", text or "").strip()[:TEXT_MAX]
