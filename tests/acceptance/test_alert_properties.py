"""Property: any JSON body on an alert webhook gets 2xx or 4xx, and what 2xx accepted is stored."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.alerts.alertmanager import parse_alertmanager
from bot.alerts.generic import parse_generic
from bot.alerts.grafana import parse_grafana
from bot.alerts.model import Alert
from bot.sandbox.stack import Stack
from storage.models import AlertGroup, AlertInstance
from tests.acceptance.alert_helpers import alert_stack, am_alert, am_body, post
from tests.acceptance.test_alerts import GRAFANA

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
FIELDS = ["status", "labels", "annotations", "startsAt", "endsAt", "fingerprint", "generatorURL"]
VALID = {
    "alertmanager": am_body(am_alert("db1:9100"), am_alert("db2:9100", status="resolved")),
    "grafana": GRAFANA,
    "generic": {"title": "Backup failed", "dedup_key": "bk", "labels": {"client": "acme"}},
}
PARSERS: dict[str, Any] = {
    "alertmanager": parse_alertmanager,
    "grafana": parse_grafana,
    "generic": parse_generic,
}


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, object]:
    """A valid body of one kind with a few fields replaced by arbitrary JSON."""
    kind = draw(st.sampled_from(sorted(VALID)))
    body = copy.deepcopy(VALID[kind])
    for _ in range(draw(st.integers(1, 3))):
        value = draw(json_values)
        if kind == "generic":
            body[
                draw(
                    st.sampled_from(
                        ["title", "status", "severity", "dedup_key", "labels", "link", "client"]
                    )
                )
            ] = value
        elif draw(st.booleans()) and _alert_dicts(body):
            alert = draw(st.sampled_from(_alert_dicts(body)))
            alert[draw(st.sampled_from(FIELDS))] = value
        else:
            body[
                draw(st.sampled_from(["alerts", "groupKey", "groupLabels", "status", "version"]))
            ] = value
    return kind, body


def _alert_dicts(body: dict[str, Any]) -> list[dict[str, Any]]:
    alerts = body.get("alerts")
    return [a for a in alerts if isinstance(a, dict)] if isinstance(alerts, list) else []


bodies = st.one_of(st.tuples(st.sampled_from(sorted(VALID)), json_values), mutated())


@pytest.fixture(scope="module")
def module_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('alertprop')) / 'alerts.db'}"
    with alert_stack(url) as stack:
        yield stack


def stored(stack: Stack, alert: Alert) -> bool:
    key_hash = hashlib.sha256(alert.group_key.encode("utf-8", "surrogatepass")).hexdigest()
    with stack.rt.sessions() as s:
        found = s.scalar(
            select(AlertInstance.id)
            .join(AlertGroup, AlertGroup.id == AlertInstance.group_id)
            .where(AlertGroup.key_hash == key_hash, AlertInstance.fingerprint == alert.fingerprint)
        )
    return found is not None


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=bodies)
def test_any_body_gets_2xx_or_4xx_and_accepted_alerts_are_stored(
    module_stack: Stack, case: tuple[str, object]
) -> None:
    kind, body = case
    answer = post(module_stack, f"/alerts/{kind}", json.dumps(body).encode())
    assert answer.status in (200, 400, 413, 422), answer.text
    assert "Traceback" not in answer.text
    if answer.status != 200:
        assert answer.json and answer.json.get("error"), answer.text
        return
    for alert in PARSERS[kind](body):
        assert stored(module_stack, alert), alert
