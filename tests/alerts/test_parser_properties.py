"""Properties of every alert parser: any JSON gives well-formed alerts or an AlertPayloadError."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.alertmanager import parse_alertmanager
from bot.alerts.chat import classify_message
from bot.alerts.generic import parse_generic
from bot.alerts.grafana import parse_grafana
from bot.alerts.model import Alert, AlertPayloadError, AlertStatus
from bot.alerts.payload import DESCRIPTION_MAX, FINGERPRINT_MAX, TITLE_MAX
from bot.config.alerts import ChatAlertRules
from tests.alerts.payloads import GENERIC, NAMES, load

EXAMPLES = settings(max_examples=150, deadline=None)
# Field names and values the parsers look at, so that generated JSON reaches deep paths.
KEYS = st.sampled_from(
    [
        "alerts",
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
        "groupKey",
        "groupLabels",
        "externalURL",
        "truncatedAlerts",
        "values",
        "panelURL",
        "dashboardURL",
        "ruleId",
        "ruleName",
        "ruleUrl",
        "state",
        "evalMatches",
        "metric",
        "value",
        "tags",
        "message",
        "title",
        "severity",
        "dedup_key",
        "client",
        "description",
        "link",
        "type",
        "subtype",
        "bot_id",
        "user",
        "username",
        "attachments",
        "blocks",
        "text",
        "fields",
        "color",
        "fallback",
        "pretext",
        "title_link",
        "actions",
        "url",
        "elements",
        "accessory",
        "ts",
        "bot_profile",
        "name",
        "summary",
        "alertname",
    ]  # fmt: skip
) | st.text(max_size=8)
WORDS = st.sampled_from(
    [
        "firing",
        "resolved",
        "alerting",
        "ok",
        "no_data",
        "paused",
        "message",
        "bot_message",
        "message_changed",
        "button",
        "danger",
        "good",
        "#36a64f",
        "FIRING: disk",
        "[RESOLVED] x",
        "2026-11-26T17:22:43.749045757Z",
        "0001-01-01T00:00:00Z",
        "https://x.example/a",
        '{}:{a="b"}',
        "B0PROM0001",
    ]  # fmt: skip
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | WORDS
    | st.sampled_from(["\ud800", "\x00", " \n\t ", "x" * 10_500])
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=30,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        yield from _paths(child, (*prefix, key))


@st.composite
def mutations(draw: st.DrawFn, bodies: list[Any]) -> Any:
    """A real body with one to three parts replaced by arbitrary JSON or removed."""
    body = copy.deepcopy(draw(st.sampled_from(bodies)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(body))))
        replacement = draw(JSON)
        if not path:
            body = replacement
            continue
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
    return body


def well_formed(alert: Alert, source: str) -> None:
    assert isinstance(alert, Alert)
    assert alert.source == source
    assert isinstance(alert.status, AlertStatus)
    assert alert.group_key.startswith(source + ":") and len(alert.group_key) > len(source) + 1
    assert alert.fingerprint.strip() and len(alert.fingerprint) <= FINGERPRINT_MAX
    assert alert.title.strip() and len(alert.title) <= TITLE_MAX and "\n" not in alert.title
    assert len(alert.description) <= DESCRIPTION_MAX
    assert alert.severity is None or (alert.severity and alert.severity == alert.severity.lower())
    assert alert.link is None or alert.link.lower().startswith(("http://", "https://"))
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in alert.labels.items())
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in alert.annotations.items())
    for moment in (alert.starts_at, alert.ends_at):
        assert moment is None or moment.utcoffset() is not None
    texts = [alert.group_key, alert.fingerprint, alert.title, alert.description]
    texts += [alert.severity or "", alert.link or "", alert.client or "", alert.message_ts or ""]
    for mapping in (alert.labels, alert.annotations):
        texts += [*mapping.keys(), *mapping.values()]
    for text in texts:
        text.encode("utf-8")  # no lone surrogates: storable and sendable
        assert "\x00" not in text


def parsed_or_refused(parse: Callable[[object], list[Alert]], body: object, source: str) -> None:
    try:
        alerts = parse(body)
    except AlertPayloadError as error:
        assert str(error).strip() and "\n" not in str(error)
        return
    assert isinstance(alerts, list)
    for alert in alerts:
        well_formed(alert, source)


WEBHOOK_BODIES = [load(name) for name in NAMES if not name.startswith("slack_")]
SLACK_EVENTS = [load(name) for name in NAMES if name.startswith("slack_")]


@EXAMPLES
@given(body=JSON | mutations(WEBHOOK_BODIES), dedup=st.sampled_from(["group", "fingerprint"]))
def test_alertmanager_parser_accepts_or_refuses_cleanly(body: object, dedup: str) -> None:
    parsed_or_refused(lambda b: parse_alertmanager(b, dedup=dedup), body, "alertmanager")


@EXAMPLES
@given(body=JSON | mutations(WEBHOOK_BODIES), dedup=st.sampled_from(["group", "fingerprint"]))
def test_grafana_parser_accepts_or_refuses_cleanly(body: object, dedup: str) -> None:
    parsed_or_refused(lambda b: parse_grafana(b, dedup=dedup), body, "grafana")


@EXAMPLES
@given(body=JSON | mutations([GENERIC, [GENERIC, {"title": "x"}]]))
def test_generic_parser_accepts_or_refuses_cleanly(body: object) -> None:
    parsed_or_refused(parse_generic, body, "generic")


@EXAMPLES
@given(
    event=st.dictionaries(KEYS, JSON, max_size=8) | mutations(SLACK_EVENTS),
    allow_humans=st.booleans(),
)
def test_chat_classifier_never_raises(event: Any, allow_humans: bool) -> None:
    if not isinstance(event, dict):
        event = {"message": event}
    alert = classify_message(event, ChatAlertRules(allow_humans=allow_humans))

    if alert is not None:
        well_formed(alert, "slack")
        assert alert.message_ts is None or isinstance(alert.message_ts, str)


# --- valid bodies are always accepted -----------------------------------------------------------

# RFC 3339 times (whole-minute offsets), as Alertmanager and Grafana write them.
MOMENTS = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1)),
    st.integers(-14 * 60, 14 * 60),
)
LABELS = st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=40), max_size=6)


@st.composite
def alertmanager_alerts(draw: st.DrawFn) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": draw(st.sampled_from(["firing", "resolved"])),
        "labels": draw(LABELS),
        "annotations": draw(LABELS),
        "startsAt": draw(MOMENTS).isoformat(),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": draw(st.sampled_from(["http://prom.example/graph", "", "x"])),
    }
    if draw(st.booleans()):
        alert["fingerprint"] = draw(st.text(alphabet="0123456789abcdef", min_size=16, max_size=16))
    return alert


@EXAMPLES
@given(
    alerts=st.lists(alertmanager_alerts(), max_size=8),
    group_labels=LABELS,
    route=st.sampled_from(["{}", '{}/{team="x"}', None]),
)
def test_valid_alertmanager_bodies_are_always_accepted(
    alerts: list[dict[str, Any]], group_labels: dict[str, str], route: str | None
) -> None:
    body: dict[str, Any] = {"version": "4", "alerts": alerts, "groupLabels": group_labels}
    if route is not None:
        body["groupKey"] = route + ":{}"

    parsed = parse_alertmanager(body)

    assert len(parsed) == len(alerts)
    for alert in parsed:
        well_formed(alert, "alertmanager")


@EXAMPLES
@given(
    alerts=st.lists(
        st.fixed_dictionaries(
            {"title": st.text(min_size=1).filter(str.strip)},
            optional={
                "status": st.sampled_from(["firing", "resolved"]),
                "severity": st.text(),
                "dedup_key": st.text(min_size=1, max_size=1000).filter(str.strip),
                "client": st.text(),
                "description": st.text(),
                "link": st.sampled_from(["https://x.example/1", "HTTP://X.EXAMPLE"]),
                "labels": LABELS,
            },
        ),
        max_size=5,
    )
)
def test_valid_generic_alerts_are_always_accepted(alerts: list[dict[str, Any]]) -> None:
    parsed = parse_generic(alerts)

    assert len(parsed) == len(alerts)
    for alert in parsed:
        well_formed(alert, "generic")
