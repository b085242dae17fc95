"""Alert titles: what monitoring tools write → what a technician reads; no mention or status tag
survives, whatever the text around them (hypothesis)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.chat import classify_message
from bot.alerts.title import clean_title, key_text
from bot.config.alerts import ChatAlertRules


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        (
            "<!channel> [Acme shop] [🔴 Down] 503 Service Unavailable",
            "Acme shop: 503 Service Unavailable",
        ),
        ("[Acme shop] [✅ Up] 200 - OK <!channel>", "Acme shop: 200 - OK"),
        ("[FIRING:2] DiskFull db (acme critical)", "DiskFull db (acme critical)"),
        ("[RESOLVED] DiskFull db", "DiskFull db"),
        ("Problem: High CPU load on fs01.acme.test", "High CPU load on fs01.acme.test"),
        ("Resolved in 4m 12s: High CPU load on fs01", "High CPU load on fs01"),
        ("PROBLEM - fs01.acme.test - Disk /data is CRITICAL", "fs01.acme.test - Disk /data"),
        ("** PROBLEM Service Alert: fs01/Disk is CRITICAL **", "fs01/Disk"),
        ("Triggered: [P1] SQL CPU > 90%", "SQL CPU > 90%"),
        ("[Triggered on {host:sql01}] SQL CPU high", "SQL CPU high"),
        ("<@U0TECH0001> <!subteam^S0OPS|@ops> disk full @here", "disk full"),
        (":red_circle: :warning: VPN down", "VPN down"),
        ("⚠️ 🚨 Internet is down at HQ", "Internet is down at HQ"),
        ("[Alerting] Contoso VPN latency", "Contoso VPN latency"),
        ("fabrikam-pos02 is unreachable", "fabrikam-pos02 is unreachable"),
    ],
)
def test_titles_read_as_the_problem(raw: str, title: str) -> None:
    assert clean_title(raw) == title


@pytest.mark.parametrize(
    ("firing", "resolved"),
    [
        ("[FIRING:1] DiskFull db", "[RESOLVED] DiskFull db"),
        ("Problem: Backup failed <!here>", "Resolved in 1h: Backup failed"),
        ("PROBLEM - fs01 - Disk is CRITICAL", "RECOVERY - fs01 - Disk is OK"),
        ("Triggered: [P2] SQL CPU", "Recovered: [P2] SQL CPU"),
        ("🔴 Monitor is DOWN: shop", "✅ Monitor is UP: shop"),
    ],
)
def test_firing_and_resolved_wordings_share_a_key(firing: str, resolved: str) -> None:
    assert key_text(firing) == key_text(resolved)


MENTIONS = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U0TECH0001>",
        "<@W12|sam>",
        "<!subteam^S0OPS|@ops>",
        "<!subteam^S0OPS>",
        "@here",
        "@channel",
        "<!here|here>",
    ]
)
TAGS = st.sampled_from(
    [
        "[FIRING:2]",
        "[RESOLVED]",
        "[🔴 Down]",
        "[✅ Up]",
        "[Alerting]",
        "[OK]",
        "[P1]",
        "Problem:",
        "PROBLEM -",
        "Resolved in 5m 3s:",
        "Triggered:",
        "Recovered:",
        "🔴",
        "✅",
        "⚠️",
        "🚨",
        ":red_circle:",
        ":white_check_mark:",
        "[Triggered on {host:db1}]",
        "RECOVERY -",
        "[]",
    ]
)
WORDS = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 .:-[]<>!@|^*_~`()") + ["é", "🙂"]), max_size=12
)
PARTS = st.lists(st.one_of(MENTIONS, TAGS, WORDS), max_size=10)
# Slack's syntax: `<!here>`, `<@U1>`, `<!subteam^S1|@x>` (a `<` without its `>` pings nobody).
_LEFT_MENTION = re.compile(r"<[!@][^<>\n]*>|(?<![\w@.])@(?:here|channel|everyone)\b", re.I)
_LEFT_TAG = re.compile(
    r"\[\s*(?:FIRING|RESOLVED|ALERTING|OK|DOWN|UP|P[0-5]|TRIGGERED)\b[^\[\]\n]*\]"
    r"|\A(?:Problem|Resolved|Triggered|Recovered|PROBLEM|RECOVERY)\s*(?::|-)"
    r"|[🔴✅⚠🚨]|:(?:red_circle|white_check_mark):",
    re.IGNORECASE,
)


def assert_clean(title: str) -> None:
    assert not _LEFT_MENTION.search(title), title
    assert not _LEFT_TAG.search(title), title


@settings(max_examples=300, deadline=None)
@given(PARTS)
def test_no_title_keeps_a_mention_or_a_status_tag(parts: list[str]) -> None:
    assert_clean(clean_title(" ".join(parts)))


@settings(max_examples=150, deadline=None)
@given(PARTS, st.sampled_from(["title", "text", "fallback"]))
def test_no_alerts_channel_title_keeps_a_mention_or_a_status_tag(
    parts: list[str], where: str
) -> None:
    raw = " ".join(["Problem:", *parts])
    event = {"type": "message", "subtype": "bot_message", "bot_id": "BZBX", "username": "Zabbix"}
    if where == "text":
        event["text"] = raw
    else:
        event["attachments"] = [{where: raw, "color": "danger"}]
    alert = classify_message(event, ChatAlertRules())
    assert alert is not None
    assert_clean(alert.title)
    assert_clean(alert.group_key.removeprefix("slack:"))
