"""Tests for bot/alerts/alertmanager.py with Alertmanager 0.25's real webhook bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.alerts.alertmanager import label_set, parse_alertmanager
from bot.alerts.model import AlertPayloadError, AlertStatus
from tests.alerts.payloads import AM_GROUP_KEY, am_firing, am_partly_resolved


def one_alert(**changes: Any) -> dict[str, Any]:
    """The real firing body's alert, changed."""
    alert: dict[str, Any] = am_firing()["alerts"][0]
    alert.update(changes)
    return alert


def body_with(*alerts: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = am_firing()
    body["alerts"] = list(alerts)
    body.update(changes)
    return body


def error_of(body: object, **options: str) -> str:
    with pytest.raises(AlertPayloadError) as info:
        parse_alertmanager(body, **options)
    return str(info.value)


# --- the real bodies ----------------------------------------------------------------------------


def test_first_notification_gives_one_firing_alert() -> None:
    (alert,) = parse_alertmanager(am_firing())

    assert alert.source == "alertmanager"
    assert alert.status is AlertStatus.FIRING
    assert alert.group_key == "alertmanager:" + AM_GROUP_KEY
    assert alert.fingerprint == "e5cb976153386091"
    assert alert.title == "Disk 95% full on db1"
    assert alert.description == "runbook_url: https://runbooks.example/disk"
    assert alert.severity == "critical"
    assert alert.labels == {
        "alertname": "DiskFull",
        "instance": "db1:9100",
        "service": "db",
        "severity": "critical",
    }
    assert alert.annotations["summary"] == "Disk 95% full on db1"
    assert alert.link == "http://prom.example/graph?g0.expr=disk"
    assert alert.client is None and alert.message_ts is None
    assert alert.starts_at == datetime(2026, 11, 26, 17, 22, 43, 749045, tzinfo=UTC)
    assert alert.ends_at is None  # 0001-01-01T00:00:00Z: still firing


def test_partly_resolved_group_keeps_each_alert_status() -> None:
    resolved, firing = parse_alertmanager(am_partly_resolved())

    assert (resolved.status, firing.status) == (AlertStatus.RESOLVED, AlertStatus.FIRING)
    assert resolved.group_key == firing.group_key == "alertmanager:" + AM_GROUP_KEY
    assert (resolved.fingerprint, firing.fingerprint) == ("e5cb976153386091", "87f8f93154ff3b2a")
    assert resolved.ends_at == datetime(2026, 11, 26, 17, 24, 34, 483000, tzinfo=UTC)
    assert firing.starts_at == datetime(2026, 11, 26, 17, 23, 3, 27394, tzinfo=UTC)
    assert firing.description == ""
    assert firing.link == "http://prom.example/x"


def test_fingerprint_and_group_are_stable_between_firing_and_resolved() -> None:
    (fired,) = parse_alertmanager(am_firing())
    resolved = parse_alertmanager(am_partly_resolved())[0]

    assert (fired.group_key, fired.fingerprint) == (resolved.group_key, resolved.fingerprint)


# --- group keys ---------------------------------------------------------------------------------


def test_mixed_body_splits_into_groups_by_each_alerts_label_values() -> None:
    alerts = [
        one_alert(
            labels={"alertname": f"Alert{i % 5}", "service": "db", "instance": f"h{i}"},
            fingerprint=f"{i:016x}",
        )
        for i in range(100)
    ]

    parsed = parse_alertmanager(body_with(*alerts))

    keys = [alert.group_key for alert in parsed]
    assert len(set(keys)) == 5
    assert keys.count('alertmanager:{}:{alertname="Alert3", service="db"}') == 20


def test_route_part_of_the_group_key_is_kept() -> None:
    body = body_with(
        one_alert(), groupKey='{}/{team="storage"}:{alertname="DiskFull", service="db"}'
    )

    (alert,) = parse_alertmanager(body)

    assert (
        alert.group_key == 'alertmanager:{}/{team="storage"}:{alertname="DiskFull", service="db"}'
    )


def test_group_labels_missing_from_an_alert_are_left_out() -> None:
    body = body_with(one_alert(labels={"alertname": "DiskFull"}))

    (alert,) = parse_alertmanager(body)

    assert alert.group_key == 'alertmanager:{}:{alertname="DiskFull"}'


def test_without_group_key_the_group_label_values_name_the_group() -> None:
    body = am_firing()
    del body["groupKey"]

    (alert,) = parse_alertmanager(body)

    assert alert.group_key == 'alertmanager:{alertname="DiskFull", service="db"}'


def test_without_group_key_or_group_labels_all_labels_name_the_group() -> None:
    body = am_firing()
    del body["groupKey"], body["groupLabels"]

    (alert,) = parse_alertmanager(body)

    assert alert.group_key == (
        'alertmanager:{alertname="DiskFull", instance="db1:9100", service="db", '
        'severity="critical"}'
    )


def test_group_key_without_a_label_set_counts_as_missing() -> None:
    (alert,) = parse_alertmanager(body_with(one_alert(), groupKey="opaque-key"))

    assert alert.group_key == 'alertmanager:{alertname="DiskFull", service="db"}'


def test_fingerprint_dedup_keys_each_alert_by_itself() -> None:
    resolved, firing = parse_alertmanager(am_partly_resolved(), dedup="fingerprint")

    assert resolved.group_key == "alertmanager:fp:e5cb976153386091"
    assert firing.group_key == "alertmanager:fp:87f8f93154ff3b2a"


def test_unknown_dedup_mode_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="dedup must be 'group' or 'fingerprint'") as info:
        parse_alertmanager(am_firing(), dedup="labels")

    assert not isinstance(info.value, AlertPayloadError)


def test_label_set_renders_like_go() -> None:
    labels = {"b": 'say "hi"\n', "a": "back\\slash", "a0": "x\x01", "c": "é☃"}

    rendered = label_set(labels, ["c", "b", "a", "a0", "missing"])

    assert rendered == r'{a0="x\x01", a="back\\slash", b="say \"hi\"\n", c="é☃"}'


# --- fingerprints, titles, descriptions, links ---------------------------------------------------


def test_missing_fingerprint_is_a_stable_hash_of_the_labels() -> None:
    first = one_alert(labels={"b": "2", "a": "1"})
    del first["fingerprint"]
    second = one_alert(labels={"a": "1", "b": "2"}, fingerprint="", status="resolved")

    a, b = parse_alertmanager(body_with(first, second))

    assert a.fingerprint == b.fingerprint
    assert len(a.fingerprint) == 16 and int(a.fingerprint, 16) >= 0


@pytest.mark.parametrize(
    ("annotations", "labels", "title"),
    [
        ({"summary": " Disk  full\non db1 "}, {"alertname": "X"}, "Disk full on db1"),
        ({"title": "From the title annotation"}, {"alertname": "X"}, "From the title annotation"),
        ({"summary": "  "}, {"alertname": "DiskFull", "service": "db"}, "DiskFull (service=db)"),
        ({}, {"alertname": "DiskFull", "instance": "db1"}, "DiskFull"),
        ({}, {"service": "db", "instance": "db1"}, "service=db"),
        ({}, {"instance": "db1", "job": "node"}, "instance=db1, job=node"),
    ],
)
def test_title_falls_back_from_summary_to_alertname_and_group_labels(
    annotations: dict[str, str], labels: dict[str, str], title: str
) -> None:
    (alert,) = parse_alertmanager(body_with(one_alert(annotations=annotations, labels=labels)))

    assert alert.title == title


def test_title_of_an_alert_without_labels_names_the_fingerprint() -> None:
    (alert,) = parse_alertmanager(body_with(one_alert(annotations={}, labels={})))

    assert alert.title == "Alertmanager alert e5cb976153386091"


def test_long_summary_becomes_a_bounded_one_line_title() -> None:
    (alert,) = parse_alertmanager(body_with(one_alert(annotations={"summary": "x" * 5000})))

    assert len(alert.title) == 300 and alert.title.endswith("…")


def test_description_is_the_description_then_other_annotations_in_name_order() -> None:
    annotations = {
        "summary": "Disk full",
        "runbook_url": "https://runbooks.example/disk",
        "message": "also sent",
        "description": "Only 2% left on /var",
        "dashboard": "https://grafana.example/d/1",
        "__internal__": "hidden",
        "empty": " ",
    }

    (alert,) = parse_alertmanager(body_with(one_alert(annotations=annotations)))

    assert alert.description == (
        "Only 2% left on /var\n\n"
        "dashboard: https://grafana.example/d/1\n"
        "message: also sent\n"
        "runbook_url: https://runbooks.example/disk"
    )


def test_message_annotation_is_used_without_a_description() -> None:
    (alert,) = parse_alertmanager(body_with(one_alert(annotations={"message": "Disk nearly full"})))

    assert alert.description == "Disk nearly full"


@pytest.mark.parametrize(
    ("labels", "severity"),
    [({"severity": "Warning "}, "warning"), ({"severity": ""}, None), ({}, None)],
)
def test_severity_is_the_lower_cased_severity_label(
    labels: dict[str, str], severity: str | None
) -> None:
    (alert,) = parse_alertmanager(body_with(one_alert(labels={"alertname": "X", **labels})))

    assert alert.severity == severity


@pytest.mark.parametrize(
    ("generator", "external", "link"),
    [
        ("https://prom.example/graph", "http://am.example", "https://prom.example/graph"),
        ("javascript:alert(1)", "http://am.example", "http://am.example"),
        ("", "http://am.example", "http://am.example"),
        (None, "ftp://am.example", None),
        ("not a url", None, None),
    ],
)
def test_link_is_the_generator_url_else_the_external_url(
    generator: str | None, external: str | None, link: str | None
) -> None:
    body = body_with(one_alert(generatorURL=generator), externalURL=external)

    assert parse_alertmanager(body)[0].link == link


# --- timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T17:22:43Z", datetime(2026, 11, 26, 17, 22, 43, tzinfo=UTC)),
        ("2026-11-26T17:22:43.1Z", datetime(2026, 11, 26, 17, 22, 43, 100000, tzinfo=UTC)),
        ("2026-11-26T17:22:43.999999999Z", datetime(2026, 11, 26, 17, 22, 43, 999999, tzinfo=UTC)),
        ("2021-10-12T09:51:03.157076+02:00", datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)),
        ("2026-01-01T00:30:00-01:00", datetime(2026, 1, 1, 1, 30, tzinfo=UTC)),
        (None, None),
        ("0001-01-01T00:00:00Z", None),
    ],
)
def test_times_become_aware_utc_datetimes(text: str | None, expected: datetime | None) -> None:
    (alert,) = parse_alertmanager(body_with(one_alert(startsAt=text)))

    assert alert.starts_at == expected
    assert alert.starts_at is None or alert.starts_at.utcoffset() is not None


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "2026-11-26 17:22",
        "2026-11-26T17:22:43",  # no zone
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-26T24:00:00Z",
        "2026-11-26T17:22:43+25:00",
        "0000-01-01T00:00:00Z",
        "٢٠٢٦-11-26T17:22:43Z",
        "2026-11-26T17:22:43.Z",
    ],
)
def test_bad_times_are_payload_errors(text: str) -> None:
    message = error_of(body_with(one_alert(), one_alert(endsAt=text)))

    assert message.startswith("alerts[1].endsAt ")
    assert "RFC 3339" in message or "not a valid time" in message


def test_time_that_is_not_a_string_is_a_payload_error() -> None:
    assert error_of(body_with(one_alert(startsAt=1764170563))) == (
        "alerts[0].startsAt must be an RFC 3339 time string"
    )


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "the body must be a JSON object"),
        ("alerts", "the body must be a JSON object"),
        ({}, "alerts must be a list"),
        ({"alerts": {"0": {}}}, "alerts must be a list"),
        ({"alerts": ["x"]}, "alerts[0] must be a JSON object"),
        ({"alerts": [{"labels": {}}]}, 'alerts[0].status must be "firing" or "resolved"'),
        ({"alerts": [{"status": "pending", "labels": {}}]}, "alerts[0].status must be"),
        ({"alerts": [{"status": ["firing"], "labels": {}}]}, "alerts[0].status must be"),
        ({"alerts": [{"status": "firing"}]}, "alerts[0].labels must be an object of strings"),
        ({"alerts": [{"status": "firing", "labels": None}]}, "alerts[0].labels must be an object"),
        ({"alerts": [{"status": "firing", "labels": "x"}]}, "alerts[0].labels must be an object"),
        ({"alerts": [{"status": "firing", "labels": {"a": 1}}]}, "alerts[0].labels must be"),
        (
            {"alerts": [{"status": "firing", "labels": {}, "annotations": ["x"]}]},
            "alerts[0].annotations must be an object of strings",
        ),
        (
            {"alerts": [{"status": "firing", "labels": {}, "fingerprint": 12}]},
            "alerts[0].fingerprint must be a string",
        ),
        (
            {"alerts": [{"status": "firing", "labels": {}, "fingerprint": "f" * 201}]},
            "alerts[0].fingerprint must be at most 200 characters",
        ),
        (
            {"alerts": [{"status": "firing", "labels": {}, "generatorURL": {}}]},
            "alerts[0].generatorURL must be a string",
        ),
        ({"alerts": [], "status": "ok"}, 'status must be "firing" or "resolved"'),
        ({"alerts": [], "status": {}}, 'status must be "firing" or "resolved"'),
        ({"alerts": [], "groupKey": 4}, "groupKey must be a string"),
        ({"alerts": [], "groupLabels": []}, "groupLabels must be an object of strings"),
        ({"alerts": [], "externalURL": False}, "externalURL must be a string"),
        (
            {"alerts": [], "truncatedAlerts": -1},
            "truncatedAlerts must be a whole number, 0 or more",
        ),
        ({"alerts": [], "truncatedAlerts": "0"}, "truncatedAlerts must be a whole number"),
        ({"alerts": [], "truncatedAlerts": True}, "truncatedAlerts must be a whole number"),
    ],
)
def test_malformed_bodies_name_the_field(body: object, message: str) -> None:
    assert error_of(body).startswith(message)


def test_errors_name_the_index_of_the_bad_alert() -> None:
    bad = one_alert(labels={"alertname": "DiskFull", "count": 3})

    assert error_of(body_with(one_alert(), one_alert(), one_alert(), bad)) == (
        "alerts[3].labels must be an object of strings"
    )


def test_more_than_5000_alerts_are_refused() -> None:
    alert = one_alert()

    assert parse_alertmanager(body_with(*[alert] * 5000))[4999].title == "Disk 95% full on db1"
    assert error_of(body_with(*[alert] * 5001)) == (
        "alerts has 5001 entries; at most 5,000 are accepted per request"
    )


def test_label_names_longer_than_200_characters_are_refused() -> None:
    labels = {"alertname": "DiskFull", "n" * 201: "v"}

    message = error_of(body_with(one_alert(labels=labels)))

    assert message.startswith("alerts[0].labels has a name longer than 200 characters ('nnn")


def test_long_values_are_truncated_to_10000_characters() -> None:
    annotations = {"summary": "s", "runbook_url": "r" * 20_000}
    labels = {"alertname": "DiskFull", "blob": "b" * 10_001, "fits": "f" * 10_000}

    (alert,) = parse_alertmanager(body_with(one_alert(annotations=annotations, labels=labels)))

    assert alert.annotations["runbook_url"] == "r" * 9_999 + "…"
    assert alert.labels["blob"] == "b" * 9_999 + "…"
    assert alert.labels["fits"] == "f" * 10_000


def test_unstorable_characters_are_replaced() -> None:
    labels = {"alertname": "Disk\x00Full", "\ud800": "lone surrogate"}

    (alert,) = parse_alertmanager(body_with(one_alert(labels=labels)))

    assert alert.labels == {"alertname": "Disk\ufffdFull", "\ufffd": "lone surrogate"}


def test_truncated_alerts_and_unknown_keys_are_accepted() -> None:
    body = body_with(one_alert(extra={"x": [1]}), truncatedAlerts=12, future={"a": None})

    assert len(parse_alertmanager(body)) == 1


def test_null_optional_fields_count_as_missing() -> None:
    alert = one_alert(annotations=None, fingerprint=None, generatorURL=None, endsAt=None)
    body = body_with(alert, groupLabels=None, externalURL=None, truncatedAlerts=None, status=None)

    (parsed,) = parse_alertmanager(body)

    assert parsed.annotations == {} and parsed.link is None and parsed.ends_at is None


def test_empty_alert_list_is_nothing_to_do() -> None:
    assert parse_alertmanager(body_with()) == []
