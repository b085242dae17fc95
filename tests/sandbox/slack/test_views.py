"""Modals and the Home tab in the emulator, with the WebClient and a real slack_bolt App."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.sandbox.slack.emulator import SlackEmulator
from tests.sandbox.slack.helpers import SECRET, ManualTime, RecordingBot, button, client

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "ticket_new",
    "private_metadata": '{"channel_id": "C0TECHS"}',
    "title": {"type": "plain_text", "text": "New ticket"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "priority",
            "label": {"type": "plain_text", "text": "Priority"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": [
                    {"text": {"type": "plain_text", "text": "Critical"}, "value": "critical"},
                    {"text": {"type": "plain_text", "text": "Normal"}, "value": "normal"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "assignee",
            "optional": True,
            "label": {"type": "plain_text", "text": "Assignee"},
            "element": {"type": "users_select", "action_id": "value"},
        },
    ],
}


# -- modals -------------------------------------------------------------------------------------


def test_views_open_checks_the_trigger(
    emu: SlackEmulator, clock: ManualTime, recorder: RecordingBot
) -> None:
    emu.bot_url = recorder.url
    web = client(emu)

    def trigger() -> str:
        emu.slash_command("U0REQ", "C0HELP", "")
        return recorder.received[-1].form()["trigger_id"]

    fresh = trigger()
    with pytest.raises(SlackApiError) as caught:
        web.views_open(
            trigger_id=fresh, view={**MODAL, "title": {"type": "plain_text", "text": "T" * 25}}
        )
    assert caught.value.response["error"] == "invalid_arguments"
    assert "/view/title/text" in caught.value.response["response_metadata"]["messages"][0]
    opened = web.views_open(trigger_id=fresh, view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "ticket_new"
    assert opened["state"] == {"values": {}} and opened["hash"]
    for trigger_id, error in (
        (fresh, "exchanged_trigger_id"),
        ("123.456.abc", "invalid_trigger_id"),
    ):
        with pytest.raises(SlackApiError) as caught:
            web.views_open(trigger_id=trigger_id, view=MODAL)
        assert caught.value.response["error"] == error
    late = trigger()
    clock.advance(3.5)
    with pytest.raises(SlackApiError) as caught:
        web.views_open(trigger_id=late, view=MODAL)
    assert caught.value.response["error"] == "expired_trigger_id"
    assert [v.id for v in emu.views("U0REQ")] == [opened["id"]]


def test_view_stack_updates_and_the_home_tab(emu: SlackEmulator, recorder: RecordingBot) -> None:
    emu.bot_url = recorder.url
    web = client(emu)
    more = {"type": "actions", "elements": [button("more", "More")]}
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Help"}, "blocks": [more]}

    def last_trigger() -> str:  # from the last slash command or block_actions sent to the bot
        form = recorder.received[-1].form()
        return (
            form["trigger_id"]
            if "trigger_id" in form
            else str(json.loads(form["payload"])["trigger_id"])
        )

    emu.slash_command("U0TECH", "C0TECHS", "")
    root = web.views_open(trigger_id=last_trigger(), view=modal)["view"]
    for depth in (2, 3):
        emu.click_view("U0TECH", "more")
        assert recorder.received[-1].payload()["container"]["type"] == "view"
        pushed = web.views_push(trigger_id=last_trigger(), view=modal)["view"]
        assert pushed["root_view_id"] == root["id"] and len(emu.views("U0TECH")) == depth
    emu.click_view("U0TECH", "more")
    with pytest.raises(SlackApiError) as caught:
        web.views_push(trigger_id=last_trigger(), view=modal)
    assert caught.value.response["error"] == "push_limit_reached"

    with pytest.raises(SlackApiError) as caught:
        web.views_update(view_id=root["id"], hash="stale", view=modal)
    assert caught.value.response["error"] == "hash_conflict"
    renamed = {**modal, "title": {"type": "plain_text", "text": "Help (2)"}}
    web.views_update(view_id=root["id"], hash=root["hash"], view=renamed)
    assert emu.view(root["id"]).title == "Help (2)" and len(emu.view(root["id"]).updates) == 1

    home = {
        "type": "home",
        "blocks": [{"type": "actions", "elements": [button("home_new", "New")]}],
    }
    published = web.views_publish(user_id="U0TECH", view=home)["view"]
    emu.open_home("U0TECH")
    opened = json.loads(recorder.received[-1].body)["event"]
    assert (opened["type"], opened["view"]["id"]) == ("app_home_opened", published["id"])
    emu.click_view("U0TECH", "home_new", view_id=published["id"])
    assert recorder.received[-1].payload()["view"]["type"] == "home"


def test_views_publish_rejects_what_slack_would_for_a_home_tab(emu: SlackEmulator) -> None:
    web = client(emu)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "row"}}
    twice = {"type": "actions", "elements": [button("page", "Prev"), button("page", "Next")]}
    cases = [
        ({"type": "home", "blocks": [section] * 101}, "no more than 100 items"),
        (
            {"type": "home", "title": {"type": "plain_text", "text": "Hi"}, "blocks": [section]},
            "not allowed for a home view",
        ),
        ({"type": "home", "blocks": [twice]}, "duplicate action_id 'page'"),
        ({"type": "modal", "blocks": [section]}, "must be 'home'"),
        ({"type": "home", "blocks": [section], "private_metadata": "x" * 3001}, "3001"),
    ]
    for view, message in cases:
        with pytest.raises(SlackApiError) as caught:
            web.views_publish(user_id="U0TECH", view=view)
        assert caught.value.response["error"] == "invalid_arguments"
        assert message in " ".join(caught.value.response["response_metadata"]["messages"])
    assert emu.home_view("U0TECH") is None
    web.views_publish(user_id="U0TECH", view={"type": "home", "blocks": [section] * 100})
    assert emu.home_view("U0TECH") is not None


def test_response_url_can_replace_and_delete_the_original(
    emu: SlackEmulator, recorder: RecordingBot
) -> None:
    emu.bot_url = recorder.url
    blocks = [{"type": "actions", "elements": [button("ticket_ack", "Acknowledge")]}]
    ts = client(emu).chat_postMessage(channel="C0TECHS", text="card", blocks=blocks)["ts"]
    emu.click("U0TECH", "C0TECHS", ts, "ticket_ack")
    hook = WebhookClient(recorder.received[-1].payload()["response_url"])
    assert hook.send(text="Acknowledged by sam", replace_original=True).status_code == 200
    assert emu.message("C0TECHS", ts).text == "Acknowledged by sam"
    assert hook.send(delete_original=True).status_code == 200
    assert emu.message("C0TECHS", ts).deleted and emu.messages("C0TECHS") == []


class _QuietWSGIHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@pytest.fixture
def bolt_app(emu: SlackEmulator) -> Iterator[App]:
    """A real Bolt app behind a threaded WSGI server; `emu.bot_url` points at it."""
    app = App(signing_secret=SECRET, client=client(emu), token_verification_enabled=False)
    server = make_server(
        "127.0.0.1",
        0,
        SlackRequestHandler(app),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietWSGIHandler,
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    emu.bot_url = f"http://127.0.0.1:{server.server_port}/slack/events"
    yield app
    server.shutdown()
    server.server_close()


def test_modal_round_trip_with_a_bolt_app(emu: SlackEmulator, bolt_app: App) -> None:
    done = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Ticket created"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Thanks!"}}],
    }

    @bolt_app.command("/ticket")
    def open_form(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @bolt_app.view("ticket_new")
    def create(ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        title = values["title"]["value"]["value"]
        if len(title) < 5:
            ack(response_action="errors", errors={"title": "Say a bit more"})
            return
        ack(response_action="update", view=done)
        priority = values["priority"]["value"]["selected_option"]["value"]
        who = values["assignee"]["value"]["selected_user"]
        meta = json.loads(view["private_metadata"])
        client.chat_postMessage(channel=meta["channel_id"], text=f"{title} ({priority}) → {who}")

    assert emu.slash_command("U0REQ", "C0HELP", "printer").status == 200
    modal = emu.wait_for(lambda: emu.views("U0REQ"), description="the New ticket modal")[0]
    assert modal.callback_id == "ticket_new" and modal.is_open

    refused = emu.submit_view("U0REQ", values={"title": "Net", "priority": "Critical"})
    assert refused.json == {"response_action": "errors", "errors": {"title": "Say a bit more"}}
    assert emu.view(modal.id).errors == {"title": "Say a bit more"}

    with pytest.raises(AssertionError, match="required input 'title'"):
        emu.submit_view("U0REQ", values={"title": "", "priority": "critical"})
    with pytest.raises(AssertionError, match="no option 'urgent'"):
        emu.submit_view("U0REQ", values={"title": "Internet down", "priority": "urgent"})

    accepted = emu.submit_view(
        "U0REQ", values={"title": "Internet down", "priority": "critical", "assignee": "U0TECH"}
    )
    assert accepted.json is not None and accepted.json["response_action"] == "update"
    assert emu.view(modal.id).title == "Ticket created"
    card = emu.wait_for(lambda: emu.messages("C0TECHS"))[0]
    assert card.text == "Internet down (critical) → U0TECH"
    submitted = accepted.payload["view"]
    assert submitted["private_metadata"] == MODAL["private_metadata"]
    assert submitted["state"]["values"]["priority"]["value"]["selected_option"]["value"] == (
        "critical"
    )
