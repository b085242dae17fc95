"""`ticketbot run` as a real child process, for tests and benchmarks that kill or measure it."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port for a server that is yet to start (a child process, say), which no other
    bind to port 0 on this machine gets meanwhile, as a probe closed at once would not ensure:
    the probe's accepted connection is left in TIME_WAIT on it for a minute, which keeps it from
    port-0 binds but not from a server binding it with SO_REUSEADDR (uvicorn, asyncio, Go)."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = int(listener.getsockname()[1])
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = listener.accept()
            accepted.close()  # closed first: the TIME_WAIT is on this side, the port's
    return port


def child_env(settings: Mapping[str, str]) -> dict[str, str]:
    """This environment without Slack/SMTP/alert settings or proxies, plus `settings`."""
    scrubbed = ("SLACK_", "TICKETBOT_", "SMTP_", "ALERT_", "EMAIL_", "TEAMS_")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(scrubbed) and "proxy" not in k.lower() and k != "DATABASE_URL"
    }
    env["PYTHON_DOTENV_DISABLED"] = "1"
    env.update(settings)
    return env


class BotProcess:
    """Runs `python -m bot run [--role ROLE]` on a free loopback port; its log goes to a file."""

    def __init__(
        self, settings: Mapping[str, str], *, port: int | None = None, role: str = "all"
    ) -> None:
        self.port = port or free_port()
        self.role = role
        self.env = child_env({**settings, "HOST": "127.0.0.1", "PORT": str(self.port)})
        fd, path = tempfile.mkstemp(prefix="ticketbot-", suffix=".log")
        os.close(fd)
        self.log_path = Path(path)
        self.proc: subprocess.Popen[bytes] | None = None

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )

    def start(self, timeout: float = 30.0) -> BotProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--role", self.role],
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self._healthy():
                return self
            time.sleep(0.05)  # polling a child process's port: there is nothing to wait on
        self.stop()
        raise RuntimeError(f"the bot did not start; its log:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            finally:
                conn.close()
        except OSError:
            return False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def error_lines(self) -> list[str]:
        return [
            line
            for line in self.log_path.read_text(errors="replace").splitlines()
            if " ERROR " in line
        ]
