"""Alerts-channel messages as monitoring tools post them, firing and recovered.

Each builder names where its shape comes from. Host names are under the test clients' domains
(`acme.test`, and `eu.acme.test` for a second client nested in it).
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]
ZABBIX_URL = "https://zabbix.msp.test/tr_events.php?triggerid=13211&eventid=884211"


def zabbix(*, resolved: bool, severity: str = "High") -> list[JSON]:
    """Zabbix's Slack media type in `alarm` mode (zabbix/zabbix templates/media/slack/
    media_slack.yaml, createMessage): title and fallback are the action's subject ("Problem: …",
    "Resolved in …: …"), fields Host `{HOST.NAME} [{HOST.CONN}]`, Event time, Severity, Opdata;
    colour by severity, #009900 once resolved (then the message is edited with chat.update)."""
    subject = "Resolved in 6m 12s: " if resolved else "Problem: "
    subject += "High CPU utilization (over 90% for 5m)"
    fields = [
        {"title": "Host", "value": "fs01.acme.test [10.20.0.5]", "short": True},
        {"title": "Event time", "value": "2026.12.03 09:12:33", "short": True},
        {"title": "Severity", "value": severity, "short": True},
        {"title": "Opdata", "value": "Current utilization: 97.2 %", "short": True},
    ]
    attachment: JSON = {
        "fallback": subject,
        "title": subject,
        "color": "#009900" if resolved else "#E97659",
        "title_link": ZABBIX_URL,
        "pretext": "",
        "fields": fields,
    }
    if not resolved:
        attachment["actions"] = [{"type": "button", "text": "Open in Zabbix", "url": ZABBIX_URL}]
    return [attachment]


def uptime_kuma(*, up: bool, mention_first: bool = False) -> tuple[str, list[JSON]]:
    """Uptime Kuma's Slack provider (louislam/uptime-kuma server/notification-providers/
    slack.js): text "Uptime Kuma Alert\\n" + msg, with `<!channel>` when "channel mention" is on;
    one attachment coloured #e01e5a (down) or #2eb886 (up) holding a header and a Message/Time
    section, and a "Visit Uptime Kuma" button. msg is "[monitor] [🔴 Down] reason" (server/
    model/monitor.js). `mention_first`: the mention as the issue quotes it, before the message."""
    msg = "[Acme shop] [✅ Up] 200 - OK" if up else "[Acme shop] [🔴 Down] 503 Service Unavailable"
    final = f"<!channel> {msg}" if mention_first else f"{msg} <!channel>"
    attachment = {
        "color": "#2eb886" if up else "#e01e5a",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Uptime Kuma Alert"}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Message*\n" + final},
                    {"type": "mrkdwn", "text": "*Time (UTC)*\n2026-12-03 09:20:11"},
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Visit Uptime Kuma"},
                        "value": "Uptime-Kuma",
                        "url": "https://status.msp.test/dashboard/7",
                    }
                ],
            },
        ],
    }
    return f"Uptime Kuma Alert\n{final}", [attachment]


def icinga(*, state: str, kind: str = "PROBLEM") -> str:
    """An Icinga 2 / Nagios notification command posting plain text (laincloud/centos-lain-
    icinga2 scripts/slack-service-notification.sh: "$NOTIFICATIONTYPE - $HOSTDISPLAYNAME -
    $SERVICEDISPLAYNAME is $SERVICESTATE")."""
    return f"{kind} - fs01.acme.test - Disk /data is {state}"


def checkmk(*, state: str, kind: str = "PROBLEM") -> list[JSON]:
    """Checkmk's Slack plugin (Checkmk/checkmk cmk/notification_plugins/slack.py, slack_msg):
    "Service PROBLEM notification", Host/Service as links, State; a second "Additional Info"
    attachment with the check output and a Check_MK footer; colours #EE0000/#FFDD00/#00CC00."""
    colors = {"CRITICAL": "#EE0000", "WARNING": "#FFDD00", "OK": "#00CC00"}
    base = "https://cmk.msp.test/mysite/check_mk/index.py?start_url="
    return [
        {
            "color": colors[state],
            "title": f"Service {kind} notification",
            "text": (
                f"Host: <{base}view.py%3Fhost%3Dfs01.eu.acme.test|fs01.eu.acme.test> "
                f"(IP: 10.20.1.7)\nService: <{base}service.py|Filesystem /srv>\nState: {state}"
            ),
        },
        {
            "color": colors[state],
            "title": "Additional Info",
            "text": f"{state} - 91.3% used (1.83 of 2.00 TiB)\nPlease take a look: @cmkadmin",
            "footer": "Check_MK notification: Thu Dec 3 09:30:00 UTC 2026",
        },
    ]


def datadog(*, recovered: bool) -> tuple[str, list[JSON]]:
    """Datadog's Slack app posting a monitor notification with its bot token (shape as in
    shared/reference/slack-payloads.md §8d): "Triggered: [P2] title" / "Recovered: …", the
    monitor's message with the `host:` tag, and a link to app.datadoghq.com."""
    head = "Recovered" if recovered else "Triggered"
    text = f"{head}: [P2] SQL CPU > 90% on sql01.acme.test"
    blocks = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{text}*\nCPU at 94% for 10m. @slack-noc-alerts\nhost:sql01.acme.test",
            },
            "accessory": {
                "type": "button",
                "text": {"type": "plain_text", "text": "View monitor"},
                "url": "https://app.datadoghq.com/monitors/4411?group=host%3Asql01.acme.test",
            },
        }
    ]
    return text, blocks


def grafana(*, resolved: bool) -> list[JSON]:
    """Grafana's Slack contact point with the default templates (grafana/alerting
    templates/default_template.go: `__subject` title "[FIRING:1] group labels (common labels)",
    `__text_alert_list` text with " - name = value" label lines), #D63232 / #36a64f."""
    status = "[RESOLVED]" if resolved else "[FIRING:1]"
    return [
        {
            "color": "#36a64f" if resolved else "#D63232",
            "title": f"{status} HighMemory (fs01.eu.acme.test:9100 warning)",
            "title_link": "https://grafana.msp.test/alerting/list",
            "text": (
                f"**{'Resolved' if resolved else 'Firing'}**\n\nValue: A=93.1\nLabels:\n"
                " - alertname = HighMemory\n - instance = fs01.eu.acme.test:9100\n"
                " - severity = warning\nAnnotations:\n - summary = Memory above 90%\n"
                "Source: https://grafana.msp.test/alerting/grafana/eb1/view\n"
            ),
            "footer": "Grafana v11.3.0",
            "ts": 1764753000,
        }
    ]
