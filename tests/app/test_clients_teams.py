"""`ticketbot clients add|update|list` with the Teams settings: tenant, channel, webhook."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.app.clients import ClientSpec, teams_channel_id, validate
from bot.cli.main import main
from bot.sandbox.teams.workflows import WorkflowsListener

TENANT = "0A1B2C3D-1111-2222-3333-444455556666"
CHANNEL = "19:4f1c0e6a2b7d4e0c9a1b2c3d4e5f6a7b@thread.tacv2"
SIG = "Xq3v_secret-signature-value"
WORKFLOW = (
    "https://0a1b2c3d11112222.33.environment.api.powerplatform.com:443/powerautomate/automations/"
    "direct/workflows/86ffea6392fe4f3f9555f5e8f9b1f06e/triggers/manual/paths/invoke"
    f"?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}"
)
LEGACY = [
    "https://acme.webhook.office.com/webhookb2/1111@2222/IncomingWebhook/abcdef0123/3333",
    "https://outlook.office.com/webhook/1111@2222/IncomingWebhook/abcdef0123/3333",
    "https://outlook.office365.com/webhook/1111@2222/IncomingWebhook/abcdef0123/3333",
]


@pytest.fixture
def db(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated database (SQLite, and PostgreSQL when configured) that the CLI uses."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def _add(name: str, *extra: str) -> int:
    domain = f"{name.lower()}.example"
    return main(
        ["clients", "add", "--name", name, "--domain", domain, "--contact-email", f"it@{domain}"]
        + list(extra)
    )


def _listing(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["clients", "list"]) == 0
    return capsys.readouterr().out


def test_teams_settings_are_stored_and_listed_with_the_webhook_secret_redacted(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _add(
        "Acme", "--teams-tenant", TENANT, "--teams-channel", CHANNEL, "--teams-webhook", WORKFLOW
    )

    assert code == 0
    out = _listing(capsys)
    assert f"teams tenant: {TENANT.lower()}" in out
    assert f"teams channel: {CHANNEL}" in out
    assert "teams webhook: https://0a1b2c3d11112222.33.environment.api.powerplatform.com" in out
    assert "sig=REDACTED" in out
    assert SIG not in out


def test_update_changes_the_teams_settings(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _add("Acme", "--teams-tenant", TENANT) == 0
    other = "99999999-8888-7777-6666-555555555555"

    assert main(["clients", "update", "--name", "Acme", "--teams-tenant", other]) == 0
    assert main(["clients", "update", "--name", "Acme", "--teams-channel", CHANNEL]) == 0

    out = _listing(capsys)
    assert f"teams tenant: {other}" in out and f"teams channel: {CHANNEL}" in out


def test_channel_can_be_given_as_its_teams_link(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    link = (
        "https://teams.microsoft.com/l/channel/19%3a4f1c0e6a2b7d4e0c9a1b2c3d4e5f6a7b%40thread.tacv2"
        "/Helpdesk?groupId=5b2d&tenantId=0a1b2c3d-1111-2222-3333-444455556666"
    )

    assert _add("Acme", "--teams-channel", link) == 0

    assert f"teams channel: {CHANNEL}" in _listing(capsys)


def test_channel_link_from_the_new_teams_web_address_is_understood() -> None:
    link = "https://teams.cloud.microsoft/l/channel/19%3Aabc_1%40thread.tacv2/General?groupId=x"

    assert teams_channel_id(link) == "19:abc_1@thread.tacv2"


def test_loopback_http_webhook_is_accepted_for_local_testing(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with WorkflowsListener() as listener:
        url = listener.add_flow("demo")

    assert _add("Acme", "--teams-webhook", url) == 0
    assert "/workflows/demo/" in _listing(capsys)


@pytest.mark.parametrize("url", LEGACY)
def test_office_365_connector_url_is_refused_and_says_what_to_use(
    db: str, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    assert _add("Acme", "--teams-webhook", url) == 2

    err = " ".join(capsys.readouterr().err.split())
    assert "--teams-webhook is an Office 365 connector" in err
    assert "retired" in err
    assert "Post to a channel when a webhook request is received" in err
    assert "abcdef0123" not in err  # the connector URL's path is its secret
    assert "no clients yet" in _listing(capsys)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://prod-01.westus.logic.azure.com/workflows/x?sig=abc", "https://"),
        ("https://hooks.example.com/workflows/x?sig=abc", "not a Power Automate Workflows URL"),
        (WORKFLOW.split("&sig=")[0], "no sig="),
        ("ftp://prod-01.westus.logic.azure.com/x", "https://"),
        ("not a url", "https://"),
    ],
)
def test_webhook_that_is_not_a_usable_workflows_url_is_refused(
    db: str, capsys: pytest.CaptureFixture[str], url: str, says: str
) -> None:
    assert _add("Acme", "--teams-webhook", url) == 2

    err = capsys.readouterr().err
    assert "--teams-webhook" in err and says in err
    assert "sig=abc" not in err


def test_classic_logic_apps_workflows_url_is_accepted(db: str) -> None:
    url = (
        "https://prod-12.westeurope.logic.azure.com:443/workflows/0f1e2d3c/triggers/manual/paths/"
        "invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=abc123"
    )

    assert _add("Acme", "--teams-webhook", url) == 0


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--teams-tenant", "contoso.onmicrosoft.com"),
        ("--teams-tenant", "0a1b2c3d-1111-2222-3333-44445555666"),
        ("--teams-channel", "General"),
        ("--teams-channel", "19:abc@thread.v2"),  # a group chat, not a channel
        ("--teams-channel", f"{CHANNEL};messageid=1712345678901"),  # a thread, not the channel
        ("--teams-channel", "https://example.com/l/channel/19%3aabc%40thread.tacv2/x"),
    ],
)
def test_malformed_teams_ids_are_refused_in_plain_words(
    db: str, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    assert _add("Acme", flag, value) == 2

    err = capsys.readouterr().err
    assert flag in err and ("GUID" in err or "19:…@thread.tacv2" in err)
    assert "Traceback" not in err


def test_tenant_and_channel_belong_to_one_client_only(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add("Acme", "--teams-tenant", TENANT, "--teams-channel", CHANNEL) == 0
    capsys.readouterr()

    assert _add("Globex", "--teams-tenant", TENANT.lower(), "--teams-channel", CHANNEL) == 2

    err = capsys.readouterr().err
    assert f"Teams tenant {TENANT.lower()} already belongs to Acme" in err
    assert f"Teams channel {CHANNEL} already belongs to Acme" in err
    assert main(["clients", "update", "--name", "Acme", "--teams-tenant", TENANT]) == 0


def test_the_msps_own_tenant_cannot_be_a_clients(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("TEAMS_APP_PASSWORD", "app-secret")
    monkeypatch.setenv("TEAMS_TENANT_ID", TENANT)

    assert _add("Acme", "--teams-tenant", TENANT) == 2

    assert "your own tenant (TEAMS_TENANT_ID)" in capsys.readouterr().err
    assert _add("Acme", "--teams-tenant", "99999999-8888-7777-6666-555555555555") == 0


def test_validate_lists_every_teams_problem_at_once() -> None:
    spec = ClientSpec(
        name="Acme", teams_tenant="nope", teams_channel="nope", teams_webhook=LEGACY[0]
    )

    problems = validate(spec)

    assert [p.split(" ", 1)[0] for p in problems] == [
        "--teams-webhook",
        "--teams-tenant",
        "--teams-channel",
    ]


def test_teams_channel_id_accepts_older_skype_thread_ids() -> None:
    assert teams_channel_id(" 19:abcDEF_123-x@thread.skype ") == "19:abcDEF_123-x@thread.skype"
