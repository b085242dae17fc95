"""Alert headlines as a technician would write them: no Slack mentions, no status tags or markers.

Also the dedup-key form of a title. Imports only the standard library and `bot.alerts.payload`.
"""

from __future__ import annotations

import re

from bot.alerts.payload import clip, one_line

KEY_TEXT_MAX = 500
EMPHASIS = "*_~` "
STATUS_WORDS = (
    r"FIRING|RESOLVED|ALERTING|OK|NO ?DATA|PROBLEM|RECOVERY|RECOVERED|RE-TRIGGERED|TRIGGERED"
    r"|WARN(?:ING)?|CRITICAL|DOWN|UP|PENDING|UNKNOWN|UNREACHABLE|ALERT|WARN RECOVERED"
)
# Slack's mention and special syntax (<!here>, <!channel>, <!subteam^S…|@team>, <@U…>, and
# <!date…>, which is no headline either) and the plain words templates write for mentions.
_MENTION = re.compile(r"<[!@][^<>\n]*>|(?<![\w@.])@(?:here|channel|everyone)\b", re.IGNORECASE)
_ROUNDS_MAX = 50
# Emoji and Slack emoji codes monitoring tools use as status markers.
_MARKERS = "🔴🟠🟡🟢🔵🟣⚫⚪🟥🟧🟨🟩🟦✅❌❎⛔🚨🔥💥⚠️‼️❗❓🆘🆗⬆️⬇️🔺🔻💚💔❤️✔️✖️🛑"
_MARKER = re.compile(
    "[" + re.escape("".join(dict.fromkeys(_MARKERS.replace("\ufe0f", "")))) + "]\ufe0f?"
)
_SHORTCODE = re.compile(
    r":(?:red_circle|large_red_circle|green_circle|large_green_circle|yellow_circle"
    r"|orange_circle|white_check_mark|heavy_check_mark|x|warning|rotating_light|fire|sos"
    r"|no_entry|red_square|green_square|ok|small_red_triangle(?:_down)?|boom"
    r"|large_blue_circle|black_circle|white_circle):",
    re.IGNORECASE,
)
# Brackets opening with a status word: "[FIRING:2]", "[🔴 Down]" (the marker is gone by then),
# "[Triggered on {host:web01}]", and Datadog's priority "[P1]".
_STATUS_TAG = re.compile(rf"\[\s*(?:P[0-5]|{STATUS_WORDS})\b[^\[\]\n]{{0,200}}\]", re.IGNORECASE)
# Status prefixes: "Problem: ", "Resolved in 5m 3s: ", "Triggered: ", "PROBLEM - ",
# Nagios "** PROBLEM Service Alert: … **", Checkmk "Service PROBLEM notification".
_PREFIXES = (
    re.compile(
        rf"(?:Problem(?: has been)? resolved(?: in [^:\n]{{1,40}})?|Resolved in [^:\n]{{1,40}}"
        rf"|Problem started at [^:\n]{{1,40}}|{STATUS_WORDS})\s*(?::|-|–|—)\s*",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:PROBLEM|RECOVERY|ACKNOWLEDGEMENT|FLAPPINGSTART|FLAPPINGSTOP|CUSTOM|DOWNTIMESTART"
        r"|DOWNTIMEEND)(?:\s+(?:Host|Service)\s+Alert\s*:)?\s+"
    ),
)
# Nagios/Icinga "… - Disk /data is CRITICAL": a service state at the end of a title. ("… is
# DOWN" stays: it is how a technician says it.)
_STATE_AT_END = re.compile(r"\s+is\s+(?:CRITICAL|WARNING|UNKNOWN|OK|RECOVERED)[!.]?\s*\Z")
# "Monitor is DOWN: shop": a state inside a title, dropped from the key only.
_STATE_IN_TITLE = re.compile(
    r"\s+is\s+(?:DOWN|UP|OK|CRITICAL|WARNING|UNKNOWN|UNREACHABLE|RECOVERED)\b", re.IGNORECASE
)
# "[Acme shop] 503 …": a leading bracketed name left after the tags went (Uptime Kuma).
_LEADING_NAME = re.compile(r"\[([^\[\]\n]{1,100})\]\s*(?=\S)")
_EMPTY_BRACKETS = re.compile(r"\[\s*\]|\(\s*\)")
_KEY_NOISE = re.compile(r"[*`]+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([:,.;)\]])")
_TRAILING_NOISE = re.compile(r"[\s:;,\-–—|]+\Z")
_LEADING_NOISE = re.compile(r"\A[\s:;,\-–—|]+")


def strip_mentions(text: str) -> str:
    """`text` without Slack mentions (`<!here>`, `<@U1>`, `<!subteam^S1|@x>`, `@channel`)."""
    return _MENTION.sub(" ", text)


def clean_title(text: str) -> str:
    """The headline without mentions, status markers and status tags; may be empty.

    `<!channel> [Acme shop] [🔴 Down] 503 Service Unavailable` → `Acme shop: 503 Service
    Unavailable`; `[FIRING:2] DiskFull` → `DiskFull`; `PROBLEM - fs01 - Disk is CRITICAL` →
    `fs01 - Disk`.
    """
    title = _SHORTCODE.sub(" ", _MARKER.sub(" ", strip_mentions(text)))
    title = one_line(title).strip(EMPHASIS)
    for _ in range(_ROUNDS_MAX):  # each round that changes something shortens the title
        before = title
        title = _EMPTY_BRACKETS.sub(" ", _STATUS_TAG.sub(" ", title))
        title = one_line(title).strip(EMPHASIS)
        for prefix in _PREFIXES:
            match = prefix.match(title)
            if match:
                title = title[match.end() :].strip(EMPHASIS)
        title = _STATE_AT_END.sub("", title)
        title = _LEADING_NOISE.sub("", _TRAILING_NOISE.sub("", title)).strip(EMPHASIS)
        if title == before:
            named = _LEADING_NAME.match(title)
            if named is None:
                break
            title = f"{named[1].strip()}: {title[named.end() :]}"
    return one_line(_SPACE_BEFORE_PUNCT.sub(r"\1", strip_mentions(title)))


def key_text(title: str) -> str:
    """A cleaned title as a dedup key: firing and resolved wordings of one problem agree."""
    text = _STATE_IN_TITLE.sub("", _KEY_NOISE.sub("", clean_title(title)))
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))
    return clip(text.casefold(), KEY_TEXT_MAX) or clip(title.casefold(), KEY_TEXT_MAX)
