"""Debian's real `prometheus-alertmanager` (0.25) as a loopback child process, for webhook tests.

Nothing in the bot's runtime path may import this module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.domain.clock import SystemClock
from bot.sandbox.process import free_port

POLL = 0.05
# Alertmanager stops treating an alert as firing at endsAt, or at startsAt + resolve_timeout (5m)
# when endsAt is absent (VERIFIED on 0.25). Prometheus keeps re-posting; this harness posts once,
# so a fired alert carries an endsAt this far ahead and stays firing until resolve().
FIRING_FOR = timedelta(days=1)


class AlertmanagerError(RuntimeError):
    """Alertmanager did not start, or its API refused a request."""


def alertmanager_binary() -> str | None:
    """The path of the `prometheus-alertmanager` executable, or None when it is not installed."""
    return shutil.which("prometheus-alertmanager")


def go_duration(seconds: float) -> str:
    """`seconds` as a Prometheus duration in whole units (0.25 rejects "1.5s", takes "1500ms")."""
    ms = round(seconds * 1000)
    if ms < 0:
        raise ValueError(f"a duration cannot be negative: {seconds}")
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def _q(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar


def render_config(
    webhook_url: str,
    *,
    bearer_token: str | None,
    group_by: Sequence[str],
    group_wait: float,
    group_interval: float,
    repeat_interval: float,
    resolve_timeout: float,
) -> str:
    """One route to one webhook receiver named "ticketbot", as Alertmanager 0.25 YAML."""
    if group_interval <= 0 or repeat_interval <= 0:
        raise ValueError("group_interval and repeat_interval must be positive")
    lines = [
        "global:",
        f"  resolve_timeout: {go_duration(resolve_timeout)}",
        "route:",
        "  receiver: ticketbot",
        f"  group_by: [{', '.join(_q(label) for label in group_by)}]",
        f"  group_wait: {go_duration(group_wait)}",
        f"  group_interval: {go_duration(group_interval)}",
        f"  repeat_interval: {go_duration(repeat_interval)}",
        "receivers:",
        "  - name: ticketbot",
        "    webhook_configs:",
        f"      - url: {_q(webhook_url)}",
        "        send_resolved: true",
    ]
    if bearer_token is not None:
        lines += [
            "        http_config:",
            "          authorization:",
            "            type: Bearer",
            f"            credentials: {_q(bearer_token)}",
        ]
    return "\n".join(lines) + "\n"


def _timestamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class _Fired:
    starts_at: str | None
    annotations: Mapping[str, str]
    generator_url: str | None


class AlertmanagerProcess:
    """Runs Alertmanager on a free 127.0.0.1 port with gossip off, state and log in a temp dir.

    Use as a context manager; `start()` raises AlertmanagerError (with the log tail) if the
    process dies or is not ready within `ready_timeout` seconds.
    """

    def __init__(
        self,
        webhook_url: str,
        *,
        bearer_token: str | None = None,
        group_by: Sequence[str] = ("alertname", "service"),
        group_wait: float = 1.0,
        group_interval: float = 2.0,
        repeat_interval: float = 4.0,
        resolve_timeout: float = 300.0,
        ready_timeout: float = 15.0,
        binary: str | None = None,
    ) -> None:
        self.config_yaml = render_config(
            webhook_url,
            bearer_token=bearer_token,
            group_by=group_by,
            group_wait=group_wait,
            group_interval=group_interval,
            repeat_interval=repeat_interval,
            resolve_timeout=resolve_timeout,
        )
        self.binary = binary or alertmanager_binary()
        self.ready_timeout = ready_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._clock = SystemClock()  # Alertmanager judges startsAt/endsAt by the wall clock
        self._fired: dict[frozenset[tuple[str, str]], _Fired] = {}
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._last_log = ""

    def __enter__(self) -> AlertmanagerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def log_path(self) -> Path | None:
        return Path(self._dir.name) / "alertmanager.log" if self._dir is not None else None

    def start(self) -> AlertmanagerProcess:
        if self._proc is not None:
            raise AlertmanagerError("Alertmanager is already running")
        if self.binary is None:
            raise AlertmanagerError("prometheus-alertmanager is not installed")
        self._dir = tempfile.TemporaryDirectory(prefix="alertmanager-")
        root = Path(self._dir.name)
        config = root / "alertmanager.yml"
        config.write_text(self.config_yaml, encoding="utf-8")
        args = [
            self.binary,
            f"--config.file={config}",
            f"--storage.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--web.external-url={self.url}",
            "--cluster.listen-address=",  # empty: no gossip (the default listens on 0.0.0.0:9094)
        ]
        # No proxy settings reach the child: its webhook client must go straight to loopback.
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        with (root / "alertmanager.log").open("ab") as log:
            self._proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self._ready():
                return
            try:
                code = self._proc.wait(timeout=POLL)  # the poll step; returns early if it died
            except subprocess.TimeoutExpired:
                continue
            self.stop()
            raise AlertmanagerError(f"Alertmanager exited with {code}; its log:\n{self.log_tail()}")
        self.stop()
        raise AlertmanagerError(
            f"Alertmanager was not ready within {self.ready_timeout}s; its log:\n{self.log_tail()}"
        )

    def _ready(self) -> bool:
        try:
            with self._opener.open(f"{self.url}/-/ready", timeout=1) as response:
                return int(response.status) == 200
        except urllib.error.HTTPError as err:
            err.close()
            return False
        except OSError:
            return False

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; removes the temp dir. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._dir is not None:
            self._last_log = self.log_tail(lines=200)
            self._dir.cleanup()
            self._dir = None

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines of Alertmanager's log (kept after stop())."""
        path = self.log_path
        if path is None:
            text = self._last_log
        else:
            text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def fire(
        self,
        labels: Mapping[str, str],
        annotations: Mapping[str, str] | None = None,
        generator_url: str | None = None,
    ) -> None:
        """Post one alert, firing from now until resolve() (see FIRING_FOR)."""
        now = self._clock.now()
        fired = _Fired(_timestamp(now), dict(annotations or {}), generator_url)
        self._fired[frozenset(labels.items())] = fired
        self._post(labels, fired, ends_at=_timestamp(now + FIRING_FOR))

    def resolve(
        self, labels: Mapping[str, str], annotations: Mapping[str, str] | None = None
    ) -> None:
        """Post the same labels with endsAt = now, as Prometheus does when a rule stops firing.

        The startsAt, generatorURL and (when `annotations` is None) annotations are the ones
        fire() sent for these labels; Alertmanager keeps whatever the latest post carries.
        """
        fired = self._fired.pop(frozenset(labels.items()), None) or _Fired(None, {}, None)
        if annotations is not None:
            fired = _Fired(fired.starts_at, dict(annotations), fired.generator_url)
        self._post(labels, fired, ends_at=_timestamp(self._clock.now()))

    def active_alerts(self) -> list[dict[str, Any]]:
        """`GET /api/v2/alerts?active=true`: the alerts Alertmanager holds as firing."""
        alerts: list[dict[str, Any]] = json.loads(
            self._request("GET", "/api/v2/alerts?active=true")
        )
        return alerts

    def _post(self, labels: Mapping[str, str], fired: _Fired, *, ends_at: str) -> None:
        if not labels:
            raise ValueError("an alert needs at least one label")
        alert: dict[str, object] = {
            "labels": dict(labels),
            "annotations": dict(fired.annotations),
            "endsAt": ends_at,
        }
        if fired.starts_at is not None:
            alert["startsAt"] = fired.starts_at
        if fired.generator_url is not None:
            alert["generatorURL"] = fired.generator_url
        self._request("POST", "/api/v2/alerts", json.dumps([alert]).encode())

    def _request(self, method: str, path: str, body: bytes | None = None) -> bytes:
        if self._proc is None:
            raise AlertmanagerError("Alertmanager is not running")
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=body,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=5) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", errors="replace")
            err.close()
            raise AlertmanagerError(f"{method} {path} answered {err.code}: {detail}") from None
