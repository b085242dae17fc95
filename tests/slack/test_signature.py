"""SignatureCheck: Slack's v0 signature over the raw body, within five minutes of now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.clock import ManualClock
from bot.sandbox.slack.wire import sign
from bot.slack.signature import SignatureCheck

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
BODY = b"command=%2Fticket&text=printer+jammed"


@pytest.fixture
def check() -> SignatureCheck:
    return SignatureCheck(SECRET, clock=ManualClock(NOW))


def test_signed_body_passes(check: SignatureCheck) -> None:
    assert check.problem(TS, sign(SECRET, TS, BODY), BODY) is None


def test_body_that_is_not_utf8_is_checked_byte_for_byte(check: SignatureCheck) -> None:
    body = BODY + b"\xff\xfe"
    assert check.problem(TS, sign(SECRET, TS, body), body) is None
    assert check.problem(TS, sign(SECRET, TS, body), BODY) is not None


@pytest.mark.parametrize(
    ("timestamp", "signature", "problem"),
    [
        (None, "v0=x", "the request is not signed"),
        (TS, None, "the request is not signed"),
        (TS, "", "the request is not signed"),
        ("1e9", "v0=x", "X-Slack-Request-Timestamp is not a Unix time in seconds"),
        ("\u0661\u0662", "v0=x", "X-Slack-Request-Timestamp is not a Unix time in seconds"),
        ("9" * 4400, "v0=x", "X-Slack-Request-Timestamp is not a Unix time in seconds"),
        (TS, "v0=" + "0" * 64, "X-Slack-Signature does not match the request"),
        (TS, "v0=\u00e9\ud800", "X-Slack-Signature does not match the request"),
    ],
)
def test_unsigned_or_forged_request_says_why(
    check: SignatureCheck, timestamp: str | None, signature: str | None, problem: str
) -> None:
    found = check.problem(timestamp, signature, BODY)
    assert found is not None and found.startswith(problem)


def test_signature_made_with_another_secret_fails(check: SignatureCheck) -> None:
    assert check.problem(TS, sign("another-secret", TS, BODY), BODY) is not None


@pytest.mark.parametrize(
    "offset", [timedelta(minutes=-5, seconds=-1), timedelta(minutes=5, seconds=1)]
)
def test_timestamp_more_than_five_minutes_off_is_stale(offset: timedelta) -> None:
    check = SignatureCheck(SECRET, clock=ManualClock(NOW + offset))
    found = check.problem(TS, sign(SECRET, TS, BODY), BODY)
    assert found == "the request is stale: its timestamp is more than 5 minutes from now"


@pytest.mark.parametrize("offset", [timedelta(minutes=-5), timedelta(minutes=5)])
def test_timestamp_five_minutes_off_still_counts(offset: timedelta) -> None:
    check = SignatureCheck(SECRET, clock=ManualClock(NOW + offset))
    assert check.problem(TS, sign(SECRET, TS, BODY), BODY) is None


@pytest.mark.parametrize("secret", ["", "   "])
def test_blank_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="signing secret must not be empty"):
        SignatureCheck(secret)
