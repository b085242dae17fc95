"""Teams webhook URLs: redaction of the signature, Workflows and legacy connector recognition."""

from __future__ import annotations

from bot.teams.webhook_urls import (
    REDACTED,
    is_legacy_connector,
    redact,
    secrets_in,
    workflows_url_problem,
)

URL = (
    "https://prod-12.westeurope.logic.azure.com:443/workflows/0f1e/triggers/manual/paths/invoke"
    "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=ab%2Bcd"
)


def test_redact_replaces_only_the_signature_and_keeps_the_rest_as_written() -> None:
    assert redact(URL) == URL.replace("sig=ab%2Bcd", f"sig={REDACTED}")


def test_redact_hides_the_whole_path_of_a_legacy_connector_url() -> None:
    url = "https://acme.webhook.office.com/webhookb2/1@2/IncomingWebhook/secretpart/3"

    assert redact(url) == f"https://acme.webhook.office.com/{REDACTED}"


def test_redact_never_raises_on_an_unparsable_url() -> None:
    assert "secret" not in redact("https://[broken/x?sig=secret")


def test_secrets_in_gives_the_signature_as_sent_and_decoded() -> None:
    assert secrets_in(URL) == ["ab%2Bcd", "ab+cd"]


def test_legacy_connector_hosts_are_recognised() -> None:
    assert is_legacy_connector("https://x.webhook.office.com/webhookb2/a")
    assert is_legacy_connector("https://outlook.office.com/webhook/a")
    assert is_legacy_connector("https://outlook.office365.com/webhook/a")
    assert not is_legacy_connector("https://outlook.office.com/mail")
    assert not is_legacy_connector(URL)


def test_workflows_url_problem_accepts_workflows_and_loopback() -> None:
    assert workflows_url_problem(URL) is None
    assert workflows_url_problem("http://127.0.0.1:8080/workflows/x?sig=y") is None
    assert workflows_url_problem("http://localhost/workflows/x") is None
