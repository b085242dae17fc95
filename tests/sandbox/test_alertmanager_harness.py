"""The real Alertmanager harness, notifying a loopback webhook listener recorded in the test."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.alertmanager import (
    AlertmanagerError,
    AlertmanagerProcess,
    alertmanager_binary,
    go_duration,
)

needs_alertmanager = pytest.mark.skipif(
    alertmanager_binary() is None,
    reason="Debian's prometheus-alertmanager is not installed (.ci/run installs it)",
)
LABELS = {"alertname": "DiskFull", "service": "db", "instance": "db1:9100", "severity": "critical"}


@dataclass(frozen=True)
class Hook:
    headers: dict[str, str]
    body: dict[str, Any]


class HookListener:
    """Records every POST to 127.0.0.1:<port> as (headers, JSON body) and answers 200."""

    def __init__(self) -> None:
        self.hooks: list[Hook] = []
        self.cond = threading.Condition()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with listener.cond:
                    listener.hooks.append(Hook(dict(self.headers.items()), body))
                    listener.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alertmanager"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def wait_for(
        self, predicate: Callable[[Hook], bool], count: int = 1, timeout: float = 10.0
    ) -> Hook:
        """The `count`-th hook that satisfies `predicate`; AssertionError after `timeout` s."""
        with self.cond:
            if not self.cond.wait_for(
                lambda: len([h for h in self.hooks if predicate(h)]) >= count, timeout
            ):
                raise AssertionError(f"no hook #{count} like that in {timeout}s; got {self.hooks}")
            return [h for h in self.hooks if predicate(h)][count - 1]


@pytest.fixture
def listener() -> Iterator[HookListener]:
    running = HookListener()
    running.thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()
        running.thread.join()


def firing(hook: Hook) -> bool:
    return bool(hook.body["status"] == "firing")


def resolved(hook: Hook) -> bool:
    return [a["status"] for a in hook.body["alerts"]] == ["resolved"]


@needs_alertmanager
def test_alert_fires_repeats_and_resolves_through_the_webhook(listener: HookListener) -> None:
    token = secrets.token_hex(8)
    with AlertmanagerProcess(
        listener.url, bearer_token=token, group_wait=0.5, group_interval=1, repeat_interval=2
    ) as am:
        am.fire(LABELS, {"summary": "Disk 95% full on db1"}, "http://prom.example/graph?g0=disk")
        assert [a["labels"] for a in am.active_alerts()] == [LABELS]

        first = listener.wait_for(firing)
        assert first.headers["Authorization"] == f"Bearer {token}"
        assert first.headers["User-Agent"].startswith("Alertmanager/")
        assert first.body["version"] == "4"
        assert first.body["receiver"] == "ticketbot"
        assert first.body["groupLabels"] == {"alertname": "DiskFull", "service": "db"}
        assert first.body["externalURL"] == am.url
        (alert,) = first.body["alerts"]
        assert alert["status"] == "firing"
        assert alert["labels"] == LABELS
        assert alert["annotations"] == {"summary": "Disk 95% full on db1"}
        assert alert["generatorURL"] == "http://prom.example/graph?g0=disk"
        assert alert["endsAt"] == "0001-01-01T00:00:00Z"  # hidden while firing

        repeat = listener.wait_for(firing, count=2)
        assert repeat.body["groupKey"] == first.body["groupKey"]
        assert repeat.body["alerts"][0]["fingerprint"] == alert["fingerprint"]

        am.resolve(LABELS)
        done = listener.wait_for(resolved)
        assert done.body["status"] == "resolved"
        assert done.body["groupKey"] == first.body["groupKey"]
        (gone,) = done.body["alerts"]
        assert gone["fingerprint"] == alert["fingerprint"]
        assert gone["startsAt"] == alert["startsAt"]
        assert gone["annotations"] == alert["annotations"]
        assert gone["endsAt"] != "0001-01-01T00:00:00Z"
        assert done.headers["Authorization"] == f"Bearer {token}"
        assert am.active_alerts() == []
    assert am.log_path is None
    assert "Starting Alertmanager" in am.log_tail()  # kept after stop()


def test_config_has_one_bearer_webhook_route_and_whole_unit_durations() -> None:
    am = AlertmanagerProcess(
        "http://127.0.0.1:9/hook", bearer_token="t0k", group_wait=0.5, repeat_interval=60
    )
    assert "receiver: ticketbot" in am.config_yaml
    assert 'group_by: ["alertname", "service"]' in am.config_yaml
    assert "group_wait: 500ms\n" in am.config_yaml
    assert "repeat_interval: 60s\n" in am.config_yaml
    assert "type: Bearer" in am.config_yaml
    assert 'credentials: "t0k"' in am.config_yaml
    assert "http_config" not in AlertmanagerProcess("http://127.0.0.1:9/hook").config_yaml
    assert [go_duration(s) for s in (0, 1.5, 2, 0.25)] == ["0s", "1500ms", "2s", "250ms"]
    with pytest.raises(ValueError):
        AlertmanagerProcess("http://127.0.0.1:9/hook", group_interval=0)


@pytest.mark.skipif(
    shutil.which("amtool") is None, reason="amtool comes with prometheus-alertmanager"
)
def test_amtool_accepts_the_generated_config(tmp_path: Path) -> None:
    am = AlertmanagerProcess(
        "http://127.0.0.1:9/hook", bearer_token="t0k", group_wait=0.5, group_interval=1
    )
    config = tmp_path / "alertmanager.yml"
    config.write_text(am.config_yaml)
    checked = subprocess.run(
        ["amtool", "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_start_fails_with_the_log_when_the_process_exits() -> None:
    am = AlertmanagerProcess("http://127.0.0.1:9/hook", binary=sys.executable)
    with pytest.raises(AlertmanagerError, match="exited with 2; its log:\n.*unknown option"):
        am.start()  # python rejects --config.file=... on stderr, which goes to the log
    assert am.log_path is None
