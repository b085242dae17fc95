"""manifests/slack.yaml agrees with the listeners the app registers, and renders per deployment."""

from __future__ import annotations

from typing import Any

import yaml
from slack_bolt import App

from bot.messages import ids
from bot.slack.manifest import load, render
from handlers.slack import listeners

# Bot events the manifest subscribes to, by the Bolt event type that receives them.
EVENT_TYPES = {
    "message.channels": "message",
    "message.groups": "message",
    "message.im": "message",
    "app_mention": "app_mention",
    "app_home_opened": "app_home_opened",
    "member_joined_channel": "member_joined_channel",
    "member_left_channel": "member_left_channel",
    "user_change": "user_change",
}
# Scopes each kind of call or event needs.
NEEDED_SCOPES = {
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:history",
    "groups:history",
    "im:history",
    "app_mentions:read",
    "users:read",
    "users:read.email",
    "channels:read",  # member_joined_channel / member_left_channel in a public channel
    "groups:read",  # ... in a private one
    "im:write",
}


def registered() -> dict[str, set[str]]:
    app = App(signing_secret="s", token="xoxb-test", token_verification_enabled=False)
    listeners.register(
        app,
        service=_Unused(),  # type: ignore[arg-type]
        membership=_Unused(),  # type: ignore[arg-type]
        home_viewers=_Unused(),  # type: ignore[arg-type]
    )
    found: dict[str, set[str]] = {
        "command": set(),
        "event": set(),
        "action": set(),
        "view_submission": set(),
    }
    for listener in app._listeners:
        for matcher in listener.matchers:
            func = getattr(matcher, "func", None)
            kind = func.__qualname__.split(".")[0] if func else ""
            if kind in found and func.__closure__:
                found[kind] |= {_name(c.cell_contents) for c in func.__closure__}
    return found


class _Unused:
    """Registration only binds service methods; none is called here."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def _name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type"))
    return str(value)


def test_manifest_declares_every_registered_command_and_event() -> None:
    manifest = load()
    reg = registered()
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == reg["command"] == {ids.COMMAND}
    subscribed = {EVENT_TYPES[e] for e in manifest["settings"]["event_subscriptions"]["bot_events"]}
    assert subscribed <= reg["event"], "an event is subscribed but nothing listens to it"
    assert reg["event"] == subscribed
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert set(ids.ALL_ACTIONS) <= reg["action"]
    assert set(ids.HOME_ACTIONS) <= reg["action"]
    assert set(ids.ALL_VIEWS) <= reg["view_submission"]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) >= NEEDED_SCOPES


def test_render_fills_request_urls_for_http_mode() -> None:
    out = yaml.safe_load(render(base_url="https://bot.example.net/", socket_mode=False))
    url = "https://bot.example.net/slack/events"
    assert out["settings"]["event_subscriptions"]["request_url"] == url
    assert out["settings"]["interactivity"]["request_url"] == url
    assert all(c["url"] == url for c in out["features"]["slash_commands"])
    assert out["settings"]["socket_mode_enabled"] is False


def test_render_socket_mode_has_no_urls() -> None:
    out = yaml.safe_load(render(base_url=None, socket_mode=True))
    assert out["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in out["settings"]["event_subscriptions"]
    assert all("url" not in c for c in out["features"]["slash_commands"])
