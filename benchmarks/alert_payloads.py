"""Deterministic Alertmanager webhook bodies (version 4) for the alert-storm benchmark.

Standard library only, so the ticketbot side and the Alerta peer post exactly the same bytes.
"""

from __future__ import annotations

import random
import urllib.parse
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

GROUP_BY: tuple[str, ...] = ("alertname", "service")
"""The Alertmanager route's `group_by`: the labels that identify a group (one ticket each)."""

CLIENTS: tuple[str, ...] = ("acme", "globex", "initech", "umbrella", "hooli")
SERVICES: tuple[str, ...] = ("db", "web", "mail", "vpn", "backup", "dns", "files", "erp")
PROBLEMS: tuple[str, ...] = (
    "DiskFull",
    "HighCpu",
    "ServiceDown",
    "BackupFailed",
    "CertExpiring",
    "MemoryPressure",
    "PacketLoss",
    "RaidDegraded",
)
DEFAULT_SEED = 20261126
FIRING_ENDS_AT = "0001-01-01T00:00:00Z"
RECEIVER = "ticketbot"
EXTERNAL_URL = "http://alertmanager.example:9093"
PROMETHEUS_URL = "http://prometheus.example:9090"
_BASE_TIME = datetime(2026, 11, 26, 17, 0, 0, tzinfo=UTC)

# Prometheus' LabelSet.Fingerprint(): FNV-1a 64 over sorted name/value pairs, each followed by 0xff.
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = 0xFF

Payload = dict[str, Any]


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set: 16 hex digits, stable for the same labels."""
    value = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode():
                value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
            value = ((value ^ _SEPARATOR) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def group_key(group_labels: Mapping[str, str]) -> str:
    """Alertmanager's groupKey for the root route: `{}:{alertname="…", service="…"}`."""
    inner = ", ".join(f'{name}="{group_labels[name]}"' for name in sorted(group_labels))
    return f"{{}}:{{{inner}}}"


def storm_posts(
    groups: int = 500,
    per_group: int = 20,
    posts: int = 100,
    *,
    status: str = "firing",
    seed: int = DEFAULT_SEED,
) -> list[Payload]:
    """Build `posts` Alertmanager version-4 webhook bodies covering `groups` × `per_group` alerts.

    Group i has labels `alertname=<Problem>_<i>` and `service=<svc>` (its grouping labels, see
    GROUP_BY), plus `client` (cycling over CLIENTS) and `severity=critical`; its alerts are the
    instances `host-<j>:9100`, j < per_group, with the summary annotation "<alertname> on host-<j>".
    Every alertname is unique, so (alertname, instance) identifies an alert too.

    Each post carries `groups // posts` consecutive groups (the defaults give 5 groups × 20
    instances = 100 alerts a post, 10,000 alerts in 100 posts over 500 groups). A real Alertmanager
    sends one group per notification; here each post mixes several so that 100 posts can cover 500
    groups. `groupLabels` and `groupKey` therefore describe only the post's *first* group, and a
    receiver must group by each alert's own GROUP_BY label values, not by the body's groupKey.
    `commonLabels`/`commonAnnotations` are the labels/annotations shared by every alert of the post.

    With status="resolved", every alert is resolved with a real `endsAt`; otherwise every alert
    fires with `endsAt` "0001-01-01T00:00:00Z". The same arguments always give the same bodies.
    """
    if status not in ("firing", "resolved"):
        raise ValueError(f"status must be 'firing' or 'resolved', not {status!r}")
    if min(groups, per_group, posts) < 1 or groups % posts:
        raise ValueError(f"{groups} groups cannot be spread evenly over {posts} posts")
    rng = random.Random(seed)
    width = max(3, len(str(groups - 1)))
    group_alerts = [_group(i, per_group, status, width, rng) for i in range(groups)]
    per_post = groups // posts
    return [
        _post([a for g in group_alerts[p * per_post : (p + 1) * per_post] for a in g])
        for p in range(posts)
    ]


def total_alerts(posts: Iterable[Mapping[str, Any]]) -> int:
    """Number of alerts in all the bodies."""
    return sum(len(post["alerts"]) for post in posts)


def group_ids(posts: Iterable[Mapping[str, Any]]) -> set[tuple[str, ...]]:
    """Distinct groups in the bodies: the GROUP_BY label values of every alert."""
    return {
        tuple(alert["labels"].get(name, "") for name in GROUP_BY)
        for post in posts
        for alert in post["alerts"]
    }


def _group(i: int, per_group: int, status: str, width: int, rng: random.Random) -> list[Payload]:
    alertname = f"{PROBLEMS[i % len(PROBLEMS)]}_{i:0{width}d}"
    service = rng.choice(SERVICES)
    client = CLIENTS[i % len(CLIENTS)]
    expr = f'{alertname.split("_")[0].lower()}{{service="{service}"}} > 0'
    generator_url = f"{PROMETHEUS_URL}/graph?" + urllib.parse.urlencode(
        {"g0.expr": expr, "g0.tab": "1"}
    )
    group_start = _BASE_TIME + timedelta(seconds=rng.uniform(0, 3600))
    alerts = []
    for j in range(per_group):
        labels = {
            "alertname": alertname,
            "client": client,
            "instance": f"host-{j}:9100",
            "service": service,
            "severity": "critical",
        }
        # Draw every number whatever the status, so resolved bodies keep the firing startsAt.
        starts = group_start + timedelta(microseconds=rng.randrange(0, 60_000_000))
        nanos = rng.randrange(1000)
        ended = starts + timedelta(seconds=rng.uniform(60, 1800))
        ends = _timestamp(ended) if status == "resolved" else FIRING_ENDS_AT
        alerts.append(
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": f"{alertname} on host-{j}"},
                "startsAt": _timestamp(starts, nanos=nanos),
                "endsAt": ends,
                "generatorURL": generator_url,
                "fingerprint": fingerprint(labels),
            }
        )
    return alerts


def _post(alerts: list[Payload]) -> Payload:
    first = alerts[0]["labels"]
    group_labels = {name: first[name] for name in GROUP_BY}
    return {
        "receiver": RECEIVER,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "alerts": alerts,
        "groupLabels": group_labels,
        "commonLabels": _common(a["labels"] for a in alerts),
        "commonAnnotations": _common(a["annotations"] for a in alerts),
        "externalURL": EXTERNAL_URL,
        "version": "4",
        "groupKey": group_key(group_labels),
        "truncatedAlerts": 0,
    }


def _common(mappings: Iterable[Mapping[str, str]]) -> dict[str, str]:
    iterator = iter(mappings)
    common = dict(next(iterator, {}))
    for mapping in iterator:
        common = {k: v for k, v in common.items() if mapping.get(k) == v}
    return common


def _timestamp(moment: datetime, nanos: int | None = None) -> str:
    """RFC 3339 UTC as Alertmanager writes it: nanoseconds for startsAt, else milliseconds."""
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos is None:
        return f"{base}.{moment.microsecond // 1000:03d}Z"
    return f"{base}.{moment.microsecond:06d}{nanos:03d}Z"
