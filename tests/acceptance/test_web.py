"""GET /metrics: open by default; with METRICS_TOKEN, only for `Authorization: Bearer <token>`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.sandbox.stack import Stack

TOKEN = "metrics-token-" + "m" * 24


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def _get_metrics(stack: Stack, authorization: str | None) -> Answer:
    request = urllib.request.Request(f"{stack.base_url}/metrics")
    if authorization is not None:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return Answer(r.status, dict(r.headers), r.read().decode())
    except urllib.error.HTTPError as e:
        return Answer(e.code, dict(e.headers), e.read().decode())


@pytest.fixture
def guarded(database_url: str) -> Iterator[Stack]:
    with Stack(database_url=database_url, extra_env={"METRICS_TOKEN": TOKEN}) as stack:
        yield stack


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN],
)
def test_metrics_without_the_token_is_401(guarded: Stack, authorization: str | None) -> None:
    answer = _get_metrics(guarded, authorization)
    assert answer.status == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert json.loads(answer.body) == {
        "error": "missing or wrong token: send 'Authorization: Bearer <METRICS_TOKEN>'"
    }
    assert TOKEN not in answer.body


@pytest.mark.parametrize("authorization", [f"Bearer {TOKEN}", f"bearer  {TOKEN} "])
def test_metrics_with_the_token_is_served(guarded: Stack, authorization: str) -> None:
    answer = _get_metrics(guarded, authorization)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "ticketbot_outbox_rows" in answer.body


def test_metrics_without_a_configured_token_are_open(stack: Stack) -> None:
    answer = _get_metrics(stack, None)
    assert answer.status == 200 and "ticketbot_outbox_rows" in answer.body
