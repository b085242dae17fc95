"""Tests for bot/alerts/generic.py: our own documented alert format."""

from __future__ import annotations

from typing import Any

import pytest

from bot.alerts.generic import parse_generic
from bot.alerts.model import AlertPayloadError, AlertStatus
from tests.alerts.payloads import GENERIC


def error_of(body: object) -> str:
    with pytest.raises(AlertPayloadError) as info:
        parse_generic(body)
    return str(info.value)


def test_every_field_is_read() -> None:
    (alert,) = parse_generic(GENERIC)

    assert alert.source == "generic"
    assert alert.status is AlertStatus.FIRING
    assert alert.group_key == "generic:backup-fileserver"
    assert alert.title == "Backup job failed on fileserver"
    assert alert.severity == "critical"
    assert alert.client == "Acme Corp"
    assert alert.description == "Veeam job 'nightly' failed: disk quota exceeded"
    assert alert.link == "https://backup.example/jobs/42"
    assert alert.labels == {"host": "fs01", "job": "nightly"}
    assert len(alert.fingerprint) == 16


def test_only_a_title_is_required() -> None:
    (alert,) = parse_generic({"title": "  Printer  offline "})

    assert alert.status is AlertStatus.FIRING
    assert alert.title == "Printer offline"
    assert alert.group_key == "generic:Printer offline"  # the title is the default dedup key
    assert (alert.severity, alert.client, alert.link, alert.description) == (None, None, None, "")
    assert alert.labels == {}


def test_firing_and_resolved_share_the_group_and_fingerprint() -> None:
    (fired,) = parse_generic(GENERIC)
    (resolved,) = parse_generic({**GENERIC, "status": "resolved", "title": "Backup OK again"})

    assert resolved.status is AlertStatus.RESOLVED
    assert (resolved.group_key, resolved.fingerprint) == (fired.group_key, fired.fingerprint)


def test_a_list_of_alerts_keeps_its_order() -> None:
    alerts = parse_generic([{"title": "one"}, {"title": "two", "status": "resolved"}])

    assert [(a.title, a.status) for a in alerts] == [
        ("one", AlertStatus.FIRING),
        ("two", AlertStatus.RESOLVED),
    ]


def test_empty_list_is_nothing_to_do() -> None:
    assert parse_generic([]) == []


def test_at_most_1000_alerts_per_request() -> None:
    assert len(parse_generic([{"title": "x"}] * 1000)) == 1000
    assert error_of([{"title": "x"}] * 1001) == (
        "the body has 1001 entries; at most 1,000 are accepted per request"
    )


def test_null_optional_fields_count_as_missing() -> None:
    body = {key: None for key in GENERIC} | {"title": "Disk full"}

    (alert,) = parse_generic(body)

    assert (alert.status, alert.group_key) == (AlertStatus.FIRING, "generic:Disk full")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Disk full", "the body must be a JSON object"),
        (None, "the body must be a JSON object"),
        ({}, "title is required: a non-blank string"),
        ({"title": ""}, "title is required: a non-blank string"),
        ({"title": " \n "}, "title is required: a non-blank string"),
        ({"title": 42}, "title is required: a non-blank string"),
        ({"title": "x", "status": "maybe"}, 'status must be "firing" or "resolved"'),
        ({"title": "x", "status": ["firing"]}, 'status must be "firing" or "resolved"'),
        ({"title": "x", "severity": 3}, "severity must be a string"),
        ({"title": "x", "dedup_key": ""}, "dedup_key must not be blank (leave it out"),
        ({"title": "x", "dedup_key": "k" * 1001}, "dedup_key must be at most 1,000 characters"),
        ({"title": "x", "client": {}}, "client must be a string"),
        ({"title": "x", "description": ["a"]}, "description must be a string"),
        ({"title": "x", "link": "backup.example/jobs/42"}, "link must be an http(s) URL"),
        ({"title": "x", "link": "javascript:alert(1)"}, "link must be an http(s) URL"),
        ({"title": "x", "labels": {"a": 1}}, "labels must be an object of strings"),
        ({"title": "x", "labels": ["a"]}, "labels must be an object of strings"),
        ({"title": "x", "serverity": "high"}, "unknown field 'serverity' (known: title, status,"),
        ([{"title": "x"}, {"title": "y", "status": 1}], '[1].status must be "firing" or'),
        ([{"title": "x"}, "y"], "[1] must be a JSON object"),
        ([{"title": "x", "extra": 1}], "unknown field 'extra' in [0] (known:"),
    ],
)
def test_bad_alerts_name_the_field(body: Any, message: str) -> None:
    assert error_of(body).startswith(message)


def test_long_title_is_bounded_but_keeps_its_full_dedup_key() -> None:
    (alert,) = parse_generic({"title": "t" * 700})

    assert len(alert.title) == 300
    assert alert.group_key == "generic:" + "t" * 700
