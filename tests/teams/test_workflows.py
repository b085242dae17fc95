"""WorkflowsGateway: real pymsteams posting to the local Workflows listener over loopback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.outbox.errors import DeliveryError
from bot.sandbox.teams.workflows import ADAPTIVE_CARD, DROP, WorkflowsListener
from bot.teams.workflows import MAX_ENVELOPE_BYTES, WorkflowsGateway


def _envelope(text: str = "Ticket #12 received") -> dict[str, object]:
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": text, "wrap": True}],
    }
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}]}


def _sig(url: str) -> str:
    return url.rsplit("sig=", 1)[1]


@pytest.fixture
def listener() -> Iterator[WorkflowsListener]:
    with WorkflowsListener() as lst:
        yield lst


@pytest.fixture
def gateway() -> WorkflowsGateway:
    return WorkflowsGateway(timeout=5)


def _fail(gateway: WorkflowsGateway, url: str) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        gateway.post(url, _envelope())
    error = caught.value
    assert _sig(url) not in str(error)
    assert _sig(url) not in error.message
    return error


def test_post_is_delivered_when_workflows_answers_202(
    listener: WorkflowsListener, gateway: WorkflowsGateway, caplog: pytest.LogCaptureFixture
) -> None:
    url = listener.add_flow("flow-a")
    caplog.set_level(logging.DEBUG)

    gateway.post(url, _envelope("Printer on fire"))

    [post] = listener.posts
    assert post.flow_id == "flow-a"
    assert post.body == _envelope("Printer on fire")
    assert post.cards[0]["body"][0]["text"] == "Printer on fire"
    assert [a.status for a in listener.attempts] == [202]
    assert "urllib3" in caplog.text  # its request line was logged, with the signature redacted
    assert _sig(url) not in caplog.text


def test_post_goes_to_its_own_flow_when_there_are_several(
    listener: WorkflowsListener, gateway: WorkflowsGateway
) -> None:
    first, second = listener.add_flow("one"), listener.add_flow("two")

    gateway.post(second, _envelope("to two"))
    gateway.post(first, _envelope("to one"))

    assert [p.cards[0]["body"][0]["text"] for p in listener.posts_to("one")] == ["to one"]
    assert [p.cards[0]["body"][0]["text"] for p in listener.posts_to("two")] == ["to two"]


def test_throttled_post_is_transient_with_retry_after_seconds(
    listener: WorkflowsListener, gateway: WorkflowsGateway
) -> None:
    url = listener.add_flow()
    listener.fail_next(status=429, retry_after=7)

    error = _fail(gateway, url)

    assert error.transient
    assert error.retry_after == 7
    assert "429" in error.message
    assert listener.posts == []
    gateway.post(url, _envelope())  # the injected answer was used up: the next one goes
    assert len(listener.posts) == 1


def test_throttled_post_reads_an_http_date_retry_after(
    listener: WorkflowsListener, gateway: WorkflowsGateway
) -> None:
    url = listener.add_flow()
    later = datetime.now(UTC) + timedelta(seconds=30)
    listener.fail_next(status=429, retry_after=format_datetime(later, usegmt=True))

    error = _fail(gateway, url)

    assert error.transient
    assert error.retry_after is not None and 25 <= error.retry_after <= 31


def test_throttled_post_without_retry_after_leaves_the_backoff_to_the_dispatcher(
    listener: WorkflowsListener, gateway: WorkflowsGateway
) -> None:
    url = listener.add_flow()
    listener.fail_next(status=429, retry_after=None)

    error = _fail(gateway, url)

    assert error.transient and error.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_transient(
    listener: WorkflowsListener, gateway: WorkflowsGateway, status: int
) -> None:
    url = listener.add_flow()
    listener.fail_next(status=status, retry_after=None)

    error = _fail(gateway, url)

    assert error.transient
    assert str(status) in error.message


@pytest.mark.parametrize("status", [400, 403, 413, 422])
def test_other_client_errors_are_permanent(
    listener: WorkflowsListener, gateway: WorkflowsGateway, status: int
) -> None:
    url = listener.add_flow()
    listener.fail_next(status=status, retry_after=None)

    error = _fail(gateway, url)

    assert not error.transient
    assert f"Workflows webhook {status}:" in error.message
    assert "REDACTED" in error.message  # the URL is named, without its signature


def test_wrong_signature_is_permanent_and_says_so(
    listener: WorkflowsListener, gateway: WorkflowsGateway
) -> None:
    url = listener.add_flow()
    forged = url.replace(_sig(url), "forged-signature-value")

    error = _fail(gateway, forged)

    assert not error.transient
    assert "signature" in error.message
    assert "forged-signature-value" not in error.message
    assert [a.status for a in listener.attempts] == [401]


def test_deleted_flow_is_permanent_and_says_what_to_do(
    listener: WorkflowsListener, gateway: WorkflowsGateway
) -> None:
    url = listener.add_flow("alive").replace("/workflows/alive/", "/workflows/deleted/")

    error = _fail(gateway, url)

    assert not error.transient
    assert "404" in error.message and "deleted" in error.message


def test_unreachable_webhook_is_transient(gateway: WorkflowsGateway) -> None:
    listener = WorkflowsListener().start()
    url = listener.add_flow()
    listener.stop()  # the port is closed: connection refused

    error = _fail(gateway, url)

    assert error.transient
    assert "unreachable" in error.message


def test_connection_closed_without_an_answer_is_transient(
    listener: WorkflowsListener, gateway: WorkflowsGateway
) -> None:
    url = listener.add_flow()
    listener.fail_next(status=DROP)

    error = _fail(gateway, url)

    assert error.transient
    assert "unreachable" in error.message


def test_malformed_url_is_permanent_without_echoing_it(gateway: WorkflowsGateway) -> None:
    url = "https://[broken/workflows/x?sig=topsecret"

    error = _fail(gateway, url)

    assert not error.transient
    assert "topsecret" not in error.message


def test_oversized_envelope_is_refused_before_sending(
    listener: WorkflowsListener, gateway: WorkflowsGateway
) -> None:
    url = listener.add_flow()

    with pytest.raises(DeliveryError) as caught:
        gateway.post(url, _envelope("x" * MAX_ENVELOPE_BYTES))

    assert not caught.value.transient
    assert "bytes" in caught.value.message
    assert listener.attempts == []


def test_envelope_that_is_not_json_is_permanent(
    listener: WorkflowsListener, gateway: WorkflowsGateway
) -> None:
    url = listener.add_flow()

    with pytest.raises(DeliveryError) as caught:
        gateway.post(url, {"type": "message", "value": float("nan")})

    assert not caught.value.transient
    assert listener.attempts == []


def test_listener_refuses_a_body_that_is_not_a_json_object(listener: WorkflowsListener) -> None:
    import requests

    url = listener.add_flow("f")
    resp = requests.post(
        url, data=b"[1, 2]", headers={"Content-Type": "application/json"}, timeout=5
    )

    assert resp.status_code == 400
    assert listener.posts == []
    assert [(a.flow_id, a.status) for a in listener.attempts] == [("f", 400)]


def test_listener_wait_for_posts_returns_once_they_arrive(
    listener: WorkflowsListener, gateway: WorkflowsGateway
) -> None:
    url = listener.add_flow()
    gateway.post(url, _envelope())

    assert len(listener.wait_for_posts(1, timeout=2)) == 1
    with pytest.raises(AssertionError, match="timed out"):
        listener.wait_for_posts(2, timeout=0.05)


def test_error_body_that_echoes_the_url_is_scrubbed_of_its_signature(
    listener: WorkflowsListener, gateway: WorkflowsGateway
) -> None:
    url = listener.add_flow()
    listener.fail_next(status=500, retry_after=None, body=f"upstream failed calling {url}")

    error = _fail(gateway, url)

    assert error.transient
    assert "upstream failed calling" in error.message


def test_retired_office_365_connector_url_is_permanent_without_a_request(
    gateway: WorkflowsGateway,
) -> None:
    url = "https://acme.webhook.office.com/webhookb2/1@2/IncomingWebhook/secretpart/3"

    with pytest.raises(DeliveryError) as caught:
        gateway.post(url, _envelope())

    assert not caught.value.transient
    assert "retired" in caught.value.message and "Workflows" in caught.value.message
    assert "secretpart" not in caught.value.message
