"""The Slack app manifest (`manifests/slack.yaml`) rendered for one deployment."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "manifests" / "slack.yaml"


def load() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("manifests/slack.yaml is not a mapping")
    return data


def render(*, base_url: str | None, socket_mode: bool) -> str:
    """HTTP mode: every request URL is `base_url`/slack/events. Socket Mode: no URLs at all."""
    manifest = copy.deepcopy(load())
    settings = manifest["settings"]
    commands = manifest["features"]["slash_commands"]
    if socket_mode:
        settings["socket_mode_enabled"] = True
        settings["event_subscriptions"].pop("request_url", None)
        settings["interactivity"].pop("request_url", None)
        for command in commands:
            command.pop("url", None)
    else:
        url = (base_url or "https://YOUR-HOST").rstrip("/") + "/slack/events"
        settings["socket_mode_enabled"] = False
        settings["event_subscriptions"]["request_url"] = url
        settings["interactivity"]["request_url"] = url
        for command in commands:
            command["url"] = url
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
