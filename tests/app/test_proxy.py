"""deploy/Caddyfile run by Debian's real Caddy: it is valid, it balances round robin over the web
processes, and a web process that stops answering costs no request (skipped without `caddy`).

The compose network's host names (web-1, web-2) and ports do not exist here, so the adapted
configuration is run with only its listen and upstream addresses moved to loopback ports."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.process import free_port

CADDYFILE = Path(__file__).resolve().parents[2] / "deploy" / "Caddyfile"

pytestmark = pytest.mark.skipif(
    shutil.which("caddy") is None, reason="caddy is not installed (.ci/run installs it)"
)


class WebProcess:
    """Stands for one `ticketbot run --role web`: answers every path with its own name."""

    def __init__(self, name: str) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._answer()

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer()

            def _answer(self) -> None:
                body = outer.name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.name = name
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def adapted() -> dict[str, Any]:
    done = subprocess.run(
        ["caddy", "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def proxies(config: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(server, reverse_proxy handler) of every site."""
    for server in config["apps"]["http"]["servers"].values():
        for route in server["routes"]:
            for handler in route["handle"]:
                if handler["handler"] == "reverse_proxy":
                    yield server, handler


def get(port: int, path: str = "/slack/events") -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=b"x")
        response = conn.getresponse()
        assert response.status == 200, response.status
        return response.read().decode()
    finally:
        conn.close()


def test_the_caddyfile_is_valid() -> None:
    done = subprocess.run(
        ["caddy", "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_caddy_balances_round_robin_and_rides_over_a_stopped_web_process(
    tmp_path: Path,
) -> None:
    webs = {"web-1:3000": WebProcess("web-1"), "web-2:3000": WebProcess("web-2")}
    config = adapted()
    config["admin"] = {"disabled": True}
    ports = []
    for server, proxy in proxies(config):
        port = free_port()
        server["listen"] = [f"127.0.0.1:{port}"]
        ports.append(port)
        assert {u["dial"] for u in proxy["upstreams"]} == set(webs)
        for upstream in proxy["upstreams"]:
            upstream["dial"] = f"127.0.0.1:{webs[upstream['dial']].port}"
    assert len(ports) == 2  # the public site and Alertmanager's
    path = tmp_path / "caddy.json"
    path.write_text(json.dumps(config))
    with (tmp_path / "caddy.log").open("wb") as log:
        caddy = subprocess.Popen(
            ["caddy", "run", "--config", str(path)], stdout=subprocess.DEVNULL, stderr=log
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                get(ports[0], "/healthz")
                break
            except (OSError, AssertionError):
                if time.monotonic() > deadline or caddy.poll() is not None:
                    raise
                time.sleep(0.05)  # waiting on another process's port: nothing to wait on
        for port in ports:
            answers = [get(port) for _ in range(6)]
            assert sorted(set(answers)) == ["web-1", "web-2"]
            assert all(a != b for a, b in zip(answers, answers[1:], strict=False)), answers
        webs["web-1:3000"].stop()  # gone between two health checks
        assert {get(ports[0]) for _ in range(6)} == {"web-2"}
    except BaseException:
        print((tmp_path / "caddy.log").read_text())  # shown with the failure
        raise
    finally:
        caddy.terminate()
        caddy.wait(10)
        for web in webs.values():
            web.stop()
