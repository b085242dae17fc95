"""BotConnectorGateway against the Bot Connector stand-in over real HTTPS, with the real MSAL
token: every call, and how 429 / 5xx / 413 / 4xx / network / token failures are reported."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bot.outbox.errors import DeliveryError
from bot.people.teams_member import TeamsMember
from bot.sandbox.teams.connector import BotConnector
from bot.teams.auth import MsalTokenProvider, TokenError
from bot.teams.connector import BotConnectorGateway, is_channel

APP_ID = "7a7a7a7a-0000-4000-8000-00000000b07a"
TENANT = "2b2b2b2b-1111-4111-8111-111111111111"
PASSWORD = "gateway-test-secret"


@pytest.fixture(scope="module")
def connector() -> Iterator[BotConnector]:
    with BotConnector(APP_ID, TENANT, password=PASSWORD) as running:
        yield running


@pytest.fixture(scope="module")
def tokens(connector: BotConnector) -> Iterator[MsalTokenProvider]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REQUESTS_CA_BUNDLE", connector.ca_file)
        with MsalTokenProvider(APP_ID, PASSWORD, TENANT, connector.login_url) as provider:
            provider.token()  # MSAL reads the CA bundle per request: fetch while it is set
            yield provider


@pytest.fixture
def gateway(connector: BotConnector, tokens: MsalTokenProvider) -> Iterator[BotConnectorGateway]:
    with BotConnectorGateway(
        tokens.token,
        connector.service_url,
        APP_ID,
        TENANT,
        verify=connector.client_ssl_context(),
        timeout=5,
    ) as client:
        yield client


def test_personal_conversation_is_created_once_and_cached(
    connector: BotConnector, gateway: BotConnectorGateway
) -> None:
    dana = connector.add_user("Dana Client", "dana@client.example")
    conversation = gateway.create_personal(dana.id)
    assert conversation == connector.personal_conversation(dana)
    calls = len(connector.calls)
    assert gateway.create_personal(dana.id) == conversation
    assert len(connector.calls) == calls
    create = next(c for c in reversed(connector.calls) if c.path.endswith("/v3/conversations"))
    assert create.body is not None and create.body["isGroup"] is False
    assert create.body["channelData"] == {"tenant": {"id": TENANT}}


def test_send_update_delete_in_a_personal_chat(
    connector: BotConnector, gateway: BotConnectorGateway
) -> None:
    dana = connector.add_user("Dana Client", "dana2@client.example")
    conversation = gateway.create_personal(dana.id)
    activity_id = gateway.send(conversation, {"text": "Ticket #4 received"})
    assert activity_id.isdigit()
    gateway.update(conversation, activity_id, {"text": "Ticket #4 assigned"})
    [message] = connector.chat_with(dana)
    assert message.text == "Ticket #4 assigned"
    assert message.activity["type"] == "message"
    gateway.delete(conversation, activity_id)
    gateway.delete(conversation, activity_id)  # already gone: still fine
    assert connector.chat_with(dana) == []


def test_reply_threads_in_channels_and_is_flat_in_chats(
    connector: BotConnector, gateway: BotConnectorGateway
) -> None:
    tom = connector.add_user("Tom Tech", "tom@msp.example")
    channel = connector.add_channel("Helpdesk", [tom])
    root = gateway.send(channel.id, {"text": "card"})
    reply = gateway.reply(channel.id, root, {"text": "Started"})
    assert [m.id for m in connector.messages(channel.id)] == [root]
    assert [(m.id, m.text) for m in connector.thread(root)] == [(reply, "Started")]
    # A conversation id that already names a thread is re-pointed at the given root.
    gateway.reply(f"{channel.id};messageid={root}", root, {"text": "Again"})
    assert [m.text for m in connector.thread(root)] == ["Started", "Again"]

    dana = connector.add_user("Dana Client", "dana3@client.example")
    chat = gateway.create_personal(dana.id)
    first = gateway.send(chat, {"text": "received"})
    gateway.reply(chat, first, {"text": "assigned"})
    assert [m.text for m in connector.chat_with(dana)] == ["received", "assigned"]


def test_channel_update_is_seen_by_everyone(
    connector: BotConnector, gateway: BotConnectorGateway
) -> None:
    channel = connector.add_channel("Helpdesk", [])
    root = gateway.send(channel.id, {"text": "v1"})
    gateway.update(channel.id, root, {"text": "v2"})
    assert connector.activity(root).text == "v2"
    assert [v["text"] for v in connector.activity(root).versions] == ["v1"]


def test_roster_member_and_members(connector: BotConnector, gateway: BotConnectorGateway) -> None:
    ann = connector.add_user("Ann Alpha", "Ann@MSP.example")
    bob = connector.add_user("Bob Beta", "", user_principal_name="bob@msp.example")
    channel = connector.add_channel("Techs", [ann, bob])
    member = gateway.member(f"{channel.id};messageid=1", ann.id)
    assert member == TeamsMember(
        id=ann.id,
        aad_object_id=ann.aad_object_id,
        name="Ann Alpha",
        email="Ann@MSP.example",
        user_principal_name="Ann@MSP.example",
        tenant_id=TENANT,
    )
    assert member.address == "ann@msp.example"
    by_aad = gateway.member(channel.id, bob.aad_object_id)
    assert by_aad is not None and by_aad.address == "bob@msp.example" and by_aad.email is None
    assert gateway.member(channel.id, "29:stranger") is None
    assert [m.id for m in gateway.members(channel.id)] == [ann.id, bob.id]


def test_throttling_is_transient_with_retry_after(
    connector: BotConnector, gateway: BotConnectorGateway
) -> None:
    channel = connector.add_channel("Busy", [])
    connector.fail_next(1, status=429, retry_after=7, conversation=channel.id)
    with pytest.raises(DeliveryError) as caught:
        gateway.send(channel.id, {"text": "x"})
    assert caught.value.transient and caught.value.retry_after == 7.0
    assert gateway.send(channel.id, {"text": "x"}).isdigit()


@pytest.mark.parametrize("status", [412, 500, 502, 503])
def test_server_errors_and_412_are_transient(
    connector: BotConnector, gateway: BotConnectorGateway, status: int
) -> None:
    channel = connector.add_channel("Flaky", [])
    connector.fail_next(1, status=status, conversation=channel.id)
    with pytest.raises(DeliveryError) as caught:
        gateway.send(channel.id, {"text": "x"})
    assert caught.value.transient and str(status) in caught.value.message


def test_too_large_is_permanent(connector: BotConnector, gateway: BotConnectorGateway) -> None:
    channel = connector.add_channel("Big", [])
    with pytest.raises(DeliveryError) as caught:
        gateway.send(channel.id, {"text": "x" * 120_000})
    assert not caught.value.transient
    assert "too large" in caught.value.message and "MessageSizeTooBig" in caught.value.message


def test_unknown_conversation_is_permanent(gateway: BotConnectorGateway) -> None:
    with pytest.raises(DeliveryError) as caught:
        gateway.send("19:missing@thread.tacv2", {"text": "x"})
    assert not caught.value.transient and "404" in caught.value.message


def test_proactive_1to1_without_the_app_installed_is_permanent(
    gateway: BotConnectorGateway,
) -> None:
    with pytest.raises(DeliveryError) as caught:
        gateway.create_personal("29:not-installed")
    assert not caught.value.transient and "403" in caught.value.message


def test_rejected_token_is_permanent_and_not_quoted(connector: BotConnector) -> None:
    forged = "eyJhbGciOiJub25lIn0.eyJhcHBpZCI6ImZvcmdlZCJ9.c2lnbmF0dXJl"
    with (
        BotConnectorGateway(
            lambda: forged,
            connector.service_url,
            APP_ID,
            TENANT,
            verify=connector.client_ssl_context(),
        ) as gateway,
        pytest.raises(DeliveryError) as caught,
    ):
        gateway.send(connector.add_channel("X", []).id, {"text": "x"})
    assert not caught.value.transient and "401" in caught.value.message
    assert forged not in caught.value.message


def test_token_failures_keep_their_kind() -> None:
    def down() -> str:
        raise TokenError("Teams login endpoint unreachable: ConnectError", transient=True)

    def refused() -> str:
        raise TokenError(
            "Teams login refused the bot's token request (invalid_client)", transient=False
        )

    for provider, transient in ((down, True), (refused, False)):
        gateway = BotConnectorGateway(provider, "https://127.0.0.1:9/teams/", APP_ID, TENANT)
        with gateway, pytest.raises(DeliveryError) as caught:
            gateway.send("a:1", {"text": "x"})
        assert caught.value.transient is transient


def test_unreachable_bot_connector_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        BotConnectorGateway(
            lambda: "t", f"https://127.0.0.1:{port}/teams/", APP_ID, TENANT
        ) as gateway,
        pytest.raises(DeliveryError) as caught,
    ):
        gateway.send("a:1", {"text": "x"})
    assert caught.value.transient and "unreachable" in caught.value.message


def test_channel_detection() -> None:
    assert is_channel("19:abc@thread.tacv2")
    assert is_channel("19:abc@thread.skype;messageid=17")
    assert not is_channel("19:meeting_x@thread.v2")
    assert not is_channel("a:1xyz")
