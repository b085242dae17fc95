"""deploy/grafana/ticketbot.json: an importable dashboard whose queries name only metrics the bot
exports (read from the /metrics of a running bot) and that shows every ticketbot metric."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bot.sandbox.stack import Stack

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "ticketbot.json"
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
}
# PromQL words that are not metric names (functions, aggregations and their modifiers).
PROMQL = {
    "sum", "max", "min", "avg", "count", "by", "without", "rate", "increase", "irate",
    "histogram_quantile", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
}  # fmt: skip
DS = "${datasource}"


def exported(stack: Stack) -> tuple[set[str], set[str]]:
    """(every series name /metrics can show, the metric family names)."""
    with urllib.request.urlopen(f"{stack.base_url}/metrics", timeout=5) as r:
        text = r.read().decode()
    names: set[str] = set()
    families: set[str] = set()
    for family in text_string_to_metric_families(text):
        families.add(family.name)
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names, families


def metric_names(expr: str) -> set[str]:
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # string literals (label values)
    bare = re.sub(r"\{[^}]*\}", "", bare)  # label matchers
    bare = re.sub(r"\[[^\]]*\]", "", bare)  # range selectors
    bare = re.sub(r"\b(by|without)\s*\([^)]*\)", "", bare)  # grouping labels
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", bare))
    return words - PROMQL


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def test_the_dashboard_is_an_importable_shape() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] and dashboard["uid"] and isinstance(dashboard["schemaVersion"], int)
    variables = dashboard["templating"]["list"]
    assert {"name": "datasource", "type": "datasource", "query": "prometheus"}.items() <= next(
        v for v in variables if v["name"] == "datasource"
    ).items()
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    taken: set[tuple[int, int]] = set()
    for p in dashboard["panels"]:
        g = p["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"]
        cells = {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }
        assert not cells & taken, f"{p['title']} overlaps another panel"
        taken |= cells
    for p in panels(dashboard):
        assert p["title"] and p["datasource"] == {"type": "prometheus", "uid": DS}
        assert p["targets"], p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs))
        assert all(t["expr"] and t["datasource"]["uid"] == DS for t in p["targets"])


def test_every_query_names_only_exported_metrics_and_shows_them_all(stack: Stack) -> None:
    names, families = exported(stack)
    dashboard = json.loads(DASHBOARD.read_text())
    used: set[str] = set()
    for p in panels(dashboard):
        for target in p["targets"]:
            found = metric_names(target["expr"])
            assert found, target["expr"]
            assert found <= names, f"{p['title']}: {sorted(found - names)} not exported"
            used |= found
    ours = {f for f in families if f.startswith("ticketbot_")}
    assert len(ours) >= 14
    shown = {f for f in ours if any(u == f or u.startswith(f + "_") for u in used)}
    assert ours == shown, f"not on the dashboard: {sorted(ours - shown)}"
