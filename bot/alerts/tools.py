"""Which monitoring tool posted an alerts-channel message: by the bot's name, else by its shape.

Names match `bot.alerts.severity.BY_TOOL`. Imports only the standard library and `bot.alerts.*`.
"""

from __future__ import annotations

import re

from bot.alerts.slack_message import SlackMessage

# Bot, app or username words → tool; the first that appears in a sender name wins.
_NAMES = (
    ("uptime kuma", "uptime-kuma"),
    ("uptime-kuma", "uptime-kuma"),
    ("uptimekuma", "uptime-kuma"),
    ("zabbix", "zabbix"),
    ("icinga", "icinga"),
    ("nagios", "nagios"),
    ("checkmk", "checkmk"),
    ("check_mk", "checkmk"),
    ("check mk", "checkmk"),
    ("datadog", "datadog"),
    ("grafana", "grafana"),
    ("alertmanager", "alertmanager"),
    ("prometheus", "alertmanager"),
)
_UPTIME_KUMA_TEXT = re.compile(
    r"\AUptime Kuma Alert\b|\[[^\[\]\n]+\]\s*\[[^\[\]\n]*\b(?:Down|Up)\]"
)
_CHECKMK_FOOTER = re.compile(r"\bCheck_?MK notification\b", re.IGNORECASE)
_CHECKMK_TITLE = re.compile(r"\A(?:Host|Service) [A-Z]+ notification\Z")
_NAGIOS_TEXT = re.compile(
    r"\A\W*(?:PROBLEM|RECOVERY|ACKNOWLEDGEMENT)\b(?:\s+(?:Host|Service)\s+Alert:|\s+-\s+)"
)
_ZABBIX_LINK = re.compile(r"/tr_events\.php\?|/zabbix\.php\?action=problem")
_DATADOG_LINK = re.compile(r"\.datadoghq\.(?:com|eu)/|\.ddog-gov\.com/")
_GRAFANA_FOOTER = re.compile(r"\AGrafana\b")
_ALERTMANAGER_TITLE = re.compile(r"\A\[(?:FIRING:\d+|RESOLVED)\]")


def recognise(message: SlackMessage) -> str | None:
    """The tool's name, or None when neither the sender nor the message shape tells."""
    senders = " ".join(message.senders).casefold()
    for word, tool in _NAMES:
        if word in senders:
            return tool
    return _by_shape(message)


def _by_shape(message: SlackMessage) -> str | None:
    texts = [message.text, *message.block_texts]
    texts += [t for a in message.attachments for t in (a.title, a.text, a.fallback, a.pretext)]
    links = [a.title_link or "" for a in message.attachments]
    links += [url for a in message.attachments for url in a.button_urls]
    links += list(message.block_urls)
    footers = [a.footer for a in message.attachments]
    if any(_UPTIME_KUMA_TEXT.search(text) for text in texts):
        return "uptime-kuma"
    if any(_CHECKMK_FOOTER.search(f) for f in footers) or any(
        _CHECKMK_TITLE.match(a.title) for a in message.attachments
    ):
        return "checkmk"
    if any(_ZABBIX_LINK.search(link) for link in links):
        return "zabbix"
    if any(_DATADOG_LINK.search(link) for link in links):
        return "datadog"
    if any(_NAGIOS_TEXT.match(text) for text in texts):
        return "nagios"
    if any(_GRAFANA_FOOTER.match(f) for f in footers):
        return "grafana"
    if any(_ALERTMANAGER_TITLE.match(a.title) for a in message.attachments):
        return "alertmanager"
    return None
