"""The Bot Connector stand-in over real HTTPS: metadata, JWKS, the MSAL token endpoint, the
conversations API, faults, and the JWTs it signs for activities."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import msal
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.teams.connector import BotConnector
from bot.sandbox.teams.login import BOT_SCOPE

APP_ID = "00000000-0000-4000-8000-00000000b07a"
TENANT = "11111111-1111-4111-8111-111111111111"


@pytest.fixture(scope="module")
def connector() -> Iterator[BotConnector]:
    with BotConnector(APP_ID, TENANT, password="s3cret") as running:
        yield running


@pytest.fixture
def http(connector: BotConnector) -> Iterator[httpx.Client]:
    with httpx.Client(verify=connector.client_ssl_context(), timeout=5) as client:
        yield client


def msal_token(connector: BotConnector, secret: str = "s3cret") -> dict[str, Any]:
    with requests.Session() as session:
        session.verify = connector.ca_file
        session.trust_env = False
        app = msal.ConfidentialClientApplication(
            APP_ID,
            client_credential=secret,
            authority=connector.authority,
            instance_discovery=False,
            http_client=session,
        )
        return dict(app.acquire_token_for_client([BOT_SCOPE]))


def bearer(connector: BotConnector) -> dict[str, str]:
    return {"Authorization": f"Bearer {msal_token(connector)['access_token']}"}


def test_openid_metadata_and_jwks_validate_the_signed_activity_token(
    connector: BotConnector, http: httpx.Client
) -> None:
    meta = http.get(connector.openid_metadata_url).json()
    assert meta["issuer"] == "https://api.botframework.com"
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = http.get(meta["jwks_uri"]).json()["keys"]
    assert [k["kid"] for k in keys] == [connector.signing_key.kid]

    token = connector.sign("https://svc.example/teams/")
    header = jwt.get_unverified_header(token)
    key = jwt.PyJWK(next(k for k in keys if k["kid"] == header["kid"])).key
    claims = jwt.decode(
        token, key, algorithms=["RS256"], audience=APP_ID, issuer="https://api.botframework.com"
    )
    assert claims["serviceurl"] == "https://svc.example/teams/"


def test_bad_token_knobs_produce_tokens_that_fail_validation(connector: BotConnector) -> None:
    public = connector.signing_key.private.public_key()
    issuer = "https://api.botframework.com"
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(connector.sign(auth="wrong_audience"), public, ["RS256"], audience=APP_ID)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(connector.sign(auth="expired"), public, ["RS256"], audience=APP_ID, leeway=300)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(connector.sign(auth="unknown_key"), public, ["RS256"], audience=APP_ID)
    mismatched = jwt.decode(
        connector.sign(auth="wrong_service_url"), public, ["RS256"], audience=APP_ID, issuer=issuer
    )
    assert mismatched["serviceurl"] != connector.service_url


def test_real_msal_gets_a_token_with_instance_discovery_off(connector: BotConnector) -> None:
    before = len(connector.calls)
    result = msal_token(connector)
    assert result["token_type"] == "Bearer"
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["appid"] == APP_ID and claims["aud"] == "https://api.botframework.com"
    paths = [c.path for c in connector.calls[before:]]
    assert paths == [
        f"/{TENANT}/v2.0/.well-known/openid-configuration",
        f"/{TENANT}/oauth2/v2.0/token",
    ]
    token_call = connector.calls[-1]
    assert token_call.body is not None and token_call.body["client_secret"] == "***"


def test_token_endpoint_refuses_a_wrong_secret(connector: BotConnector) -> None:
    result = msal_token(connector, secret="wrong")
    assert result.get("error") == "invalid_client"
    assert "access_token" not in result


def test_conversations_api_needs_a_valid_bearer_token(
    connector: BotConnector, http: httpx.Client
) -> None:
    url = f"{connector.service_url}v3/conversations"
    assert http.post(url, json={}).status_code == 401
    forged = {"Authorization": f"Bearer {connector.sign()}"}  # a Bot Connector JWT, not ours
    assert http.post(url, json={}, headers=forged).status_code == 401


def test_personal_chat_create_send_update_delete(
    connector: BotConnector, http: httpx.Client
) -> None:
    dana = connector.add_user("Dana Client", "dana@client.example")
    auth = bearer(connector)
    svc = connector.service_url
    created = http.post(
        f"{svc}v3/conversations",
        json={
            "members": [{"id": dana.id}],
            "tenantId": TENANT,
            "channelData": {"tenant": {"id": TENANT}},
        },
        headers=auth,
    )
    assert created.status_code == 201
    conv_id = created.json()["id"]
    assert conv_id.startswith("a:") and conv_id == connector.personal_conversation(dana)
    again = http.post(
        f"{svc}v3/conversations", json={"members": [{"id": dana.aad_object_id}]}, headers=auth
    )
    assert again.json()["id"] == conv_id

    sent = http.post(
        f"{svc}v3/conversations/{conv_id}/activities",
        json={"type": "message", "text": "hi"},
        headers=auth,
    )
    activity_id = sent.json()["id"]
    assert activity_id.isdigit()
    http.put(
        f"{svc}v3/conversations/{conv_id}/activities/{activity_id}",
        json={"type": "message", "text": "hi again"},
        headers=auth,
    ).raise_for_status()
    [message] = connector.chat_with(dana)
    assert message.text == "hi again" and [v["text"] for v in message.versions] == ["hi"]
    deleted = http.delete(f"{svc}v3/conversations/{conv_id}/activities/{activity_id}", headers=auth)
    assert deleted.status_code == 200
    assert connector.chat_with(dana) == [] and connector.activity(activity_id).deleted


def test_channel_post_and_thread_replies(connector: BotConnector, http: httpx.Client) -> None:
    tech = connector.add_user("Tom Tech", "tom@msp.example")
    channel = connector.add_channel("Helpdesk", [tech])
    auth = bearer(connector)
    svc = connector.service_url
    created = http.post(
        f"{svc}v3/conversations",
        json={
            "isGroup": True,
            "channelData": {"channel": {"id": channel.id}, "tenant": {"id": TENANT}},
            "activity": {"type": "message", "text": "card"},
        },
        headers=auth,
    ).json()
    root = created["activityId"]
    assert created["id"] == f"{channel.id};messageid={root}"
    assert created["serviceUrl"] == svc
    reply = http.post(
        f"{svc}v3/conversations/{created['id']}/activities",
        json={"type": "message", "text": "update 1"},
        headers=auth,
    )
    assert reply.status_code == 201
    assert [m.text for m in connector.messages(channel.id)] == ["card"]
    assert [m.text for m in connector.thread(root)] == ["update 1"]


def test_roster_members_and_single_member(connector: BotConnector, http: httpx.Client) -> None:
    a = connector.add_user("Ann Alpha", "ann@msp.example")
    b = connector.add_user(
        "Bob Beta", "bob@msp.example", user_principal_name="bob@msp.onmicrosoft.com"
    )
    channel = connector.add_channel("Techs", [a, b])
    auth = bearer(connector)
    base = f"{connector.service_url}v3/conversations/{channel.id}/members"
    members = http.get(base, headers=auth).json()
    assert [m["email"] for m in members] == ["ann@msp.example", "bob@msp.example"]
    one = http.get(f"{base}/{b.aad_object_id}", headers=auth).json()
    assert one["id"] == b.id and one["userPrincipalName"] == "bob@msp.onmicrosoft.com"
    assert one["tenantId"] == TENANT
    assert http.get(f"{base}/29:nobody", headers=auth).status_code == 404


def test_faults_and_size_limit(connector: BotConnector, http: httpx.Client) -> None:
    eve = connector.add_user("Eve Example", "eve@client.example")
    conv_id = connector.personal_conversation(eve)
    auth = bearer(connector)
    url = f"{connector.service_url}v3/conversations/{conv_id}/activities"
    connector.fail_next(2, status=429, retry_after=7, conversation=conv_id)
    connector.fail_next(1, status=503, path="/activities")
    first = http.post(url, json={"type": "message", "text": "x"}, headers=auth)
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert http.post(url, json={"type": "message", "text": "x"}, headers=auth).status_code == 429
    assert http.post(url, json={"type": "message", "text": "x"}, headers=auth).status_code == 503
    big = http.post(url, json={"type": "message", "text": "x" * 110_000}, headers=auth)
    assert big.status_code == 413 and big.json()["error"]["code"] == "MessageSizeTooBig"
    assert http.post(url, json={"type": "message", "text": "ok"}, headers=auth).status_code == 201
    assert [m.text for m in connector.chat_with(eve)] == ["ok"]


def test_activity_builders_have_teams_shapes(connector: BotConnector) -> None:
    dana = connector.add_user("Dana Client", "dana2@client.example")
    tech = connector.add_user("Tom Tech", "tom2@msp.example")
    channel = connector.add_channel("Helpdesk", [tech])
    make = connector.activities
    dm = make.personal_message(dana, "ticket printer down")
    assert dm["conversation"]["id"].startswith("a:") and dm["from"]["id"].startswith("29:")
    assert dm["channelData"]["tenant"]["id"] == TENANT and dm["id"].isdigit()
    assert dm["serviceUrl"] == connector.service_url and dm["recipient"]["id"] == f"28:{APP_ID}"

    post = make.channel_message(tech, channel, "list")
    assert post["text"] == f"<at>{connector.bot_name}</at> list"
    assert post["entities"][0]["mentioned"]["id"] == f"28:{APP_ID}"
    assert post["conversation"]["id"] == f"{channel.id};messageid={post['id']}"
    assert post["channelData"]["team"]["id"] == channel.team_id

    reply = make.thread_reply(tech, channel, "1700000000001", "on my way")
    assert reply["replyToId"] == "1700000000001" and reply["text"] == "on my way"
    click = make.card_action(tech, make.channel(channel, "1700000000001"), "assign", {"t": 1}, "17")
    assert click["type"] == "invoke" and click["name"] == "adaptiveCard/action"
    assert click["value"]["action"] == {
        "type": "Action.Execute",
        "verb": "assign",
        "data": {"t": 1},
    }
    assert click["channelData"]["channel"]["id"] == channel.id
    fetch = make.task_fetch(dana, make.personal(dana), {"dialog": "new"})
    assert fetch["name"] == "task/fetch" and fetch["value"]["data"] == {"dialog": "new"}
    added = make.members_added([dana], make.personal(dana), by=dana)
    assert added["type"] == "conversationUpdate" and added["membersAdded"][0]["id"] == dana.id


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.binary(max_size=200) | JSON_VALUES.map(lambda v: __import__("json").dumps(v).encode())
)
def test_garbage_bodies_get_4xx_never_5xx(
    connector: BotConnector, http: httpx.Client, body: bytes
) -> None:
    auth = bearer_cached(connector)
    svc = connector.service_url
    conv_id = connector.personal_conversation(connector.add_user("Gus Garbage", "gus@x.example"))
    for method, url in [
        ("POST", f"{svc}v3/conversations"),
        ("POST", f"{svc}v3/conversations/{conv_id}/activities"),
        ("PUT", f"{svc}v3/conversations/{conv_id}/activities/1"),
    ]:
        status = http.request(method, url, content=body, headers=auth).status_code
        assert status < 500


_TOKENS: dict[int, dict[str, str]] = {}


def bearer_cached(connector: BotConnector) -> dict[str, str]:
    return _TOKENS.setdefault(id(connector), bearer(connector))
