"""Real alert payloads, kept verbatim in `bodies/`: each `load()` returns a fresh copy.

Sources: Alertmanager 0.25.0's webhook body (its docs/configuration.md, `<webhook_config>`),
Grafana's webhook-notifier docs (unified alerting) and its legacy test notification, and messages
that monitoring integrations post in Slack (the alerts-channel events).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BODIES = Path(__file__).resolve().parent / "bodies"
NAMES = tuple(sorted(path.stem for path in BODIES.glob("*.json")))
AM_GROUP_KEY = '{}:{alertname="DiskFull", service="db"}'

GENERIC: dict[str, Any] = {
    "title": "Backup job failed on fileserver",
    "status": "firing",
    "severity": "Critical",
    "dedup_key": "backup-fileserver",
    "client": "Acme Corp",
    "description": "Veeam job 'nightly' failed: disk quota exceeded",
    "link": "https://backup.example/jobs/42",
    "labels": {"host": "fs01", "job": "nightly"},
}


def load(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((BODIES / f"{name}.json").read_text(encoding="utf-8"))
    return body


def am_firing() -> dict[str, Any]:
    return load("alertmanager_firing")


def am_partly_resolved() -> dict[str, Any]:
    return load("alertmanager_partly_resolved")
