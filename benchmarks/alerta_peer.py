"""Alerta 9.x (gunicorn + PostgreSQL) as the alert-ingestion peer of the alert-storm benchmark.

Standard library only: Alerta lives in its own virtualenv and is driven over HTTP and `psql`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
DEFAULT_VENV = HERE / ".alerta-venv"
# The 9.x line is the one measured against (9.1.0 on Python 3.11). The other two are
# unpinned: the newest gunicorn and psycopg2-binary install and run alerta-server 9.1.0 here.
REQUIREMENTS: tuple[str, ...] = ("alerta-server>=9.1,<10", "gunicorn", "psycopg2-binary")
WEBHOOK_PATH = "/webhooks/prometheus"  # alerta.webhooks.custom: /webhooks/<entry point name>
READY_PATH = "/management/gtg"  # 200 "OK" once the app is up and its database answers

_GUNICORN_CONF = """\
import pathlib

bind = {bind!r}
workers = {workers}
timeout = 120
graceful_timeout = 10
errorlog = {errorlog!r}


def post_worker_init(worker):
    # Called once the worker has loaded the app: the server is ready when every worker is.
    (pathlib.Path({ready_dir!r}) / str(worker.pid)).touch()
"""

_ALERTAD_CONF = """\
DATABASE_URL = {database_url!r}
AUTH_REQUIRED = False
"""

# alerta.settings ships PLUGINS = ['remote_ip', 'reject', 'heartbeat', 'blackout', 'forwarder'].
# The forwarder's post_receive returns the alert even with no FWD_DESTINATIONS, which makes
# process_alert() run two more UPDATEs per alert whose `WHERE id=… OR id LIKE '…%'` scans the table.
_NO_FORWARDER = """\
from alerta import settings as _shipped

PLUGINS = [name for name in _shipped.PLUGINS if name != "forwarder"]
"""


@dataclasses.dataclass(frozen=True)
class PostStats:
    """What a client saw while posting webhook bodies."""

    posts: int
    alerts: int
    seconds: float
    alerts_per_s: float
    p50_ms: float
    p99_ms: float
    failed_posts: int
    errors: tuple[str, ...]  # the first few failures, for the report


@dataclasses.dataclass(frozen=True)
class AlertaResult(PostStats):
    """One storm against a fresh Alerta: the client's figures plus what Alerta stored."""

    stored_alerts: int
    forwarder: bool
    server_cpu_s: float  # CPU seconds used by gunicorn and PostgreSQL during the storm
    others_busy: float  # share of the machine's CPU used meanwhile by everything else

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def ensure_alerta(venv_dir: Path = DEFAULT_VENV) -> Path:
    """Create `venv_dir` with alerta-server 9.x, gunicorn and psycopg2-binary; return `venv_dir`.

    A separate virtualenv from the project's (Alerta pins its own Flask stack). Does nothing when
    the three are already installed there.
    """
    python = venv_dir / "bin" / "python"
    if python.exists() and _installed(python):
        return venv_dir
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + list(REQUIREMENTS),
        check=True,
    )
    if not _installed(python):
        raise RuntimeError(f"{venv_dir}: alerta-server 9.x did not install")
    return venv_dir


def _installed(python: Path) -> bool:
    check = (
        "import importlib.metadata as m, sys; "
        "v = [m.version(d) for d in ('alerta-server', 'gunicorn', 'psycopg2-binary')]; "
        "sys.exit(0 if v[0].startswith('9.') else 1)"
    )
    return subprocess.run([str(python), "-c", check], capture_output=True).returncode == 0


class AlertaServer:
    """Alerta on gunicorn (sync workers) on 127.0.0.1, with a fresh PostgreSQL database.

    `with AlertaServer(venv) as alerta:` drops and recreates the database, applies Alerta's schema,
    starts gunicorn and waits until every worker has loaded the app; on exit it stops gunicorn
    (SIGTERM, then SIGKILL after a deadline) and drops the database. `forwarder=False` removes the
    default `forwarder` plugin; all other settings are Alerta's defaults.
    """

    def __init__(
        self,
        venv_dir: Path = DEFAULT_VENV,
        *,
        forwarder: bool = True,
        workers: int = 4,
        database: str = "alerta_bench",
        pg_host: str = "127.0.0.1",
        pg_port: int = 5432,
        pg_user: str = "postgres",
        start_timeout: float = 60.0,
    ) -> None:
        self.venv_dir = venv_dir
        self.forwarder = forwarder
        self.workers = workers
        self.database = database
        self.pg_host, self.pg_port, self.pg_user = pg_host, pg_port, pg_user
        self.start_timeout = start_timeout
        self.port = 0
        self.postmaster_pid: int | None = None  # when PostgreSQL runs on this machine
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def pid(self) -> int | None:
        """The gunicorn master's pid while running."""
        return self._proc.pid if self._proc else None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return self.base_url + WEBHOOK_PATH

    def __enter__(self) -> AlertaServer:
        try:
            self._start()
        except BaseException:
            with contextlib.suppress(Exception):  # keep the start error, not a cleanup one
                self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def stored_alerts(self) -> int:
        """Rows in Alerta's `alerts` table (one per environment/resource/event)."""
        return int(self.psql("SELECT count(*) FROM alerts", database=self.database))

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run one SQL command with `psql` and return its unaligned output."""
        return self._psql(["-c", sql], database, sql[:80])

    def psql_file(self, path: Path, *, database: str = "postgres") -> None:
        """Run an SQL file with `psql`."""
        self._psql(["-f", str(path)], database, str(path))

    def _psql(self, args: list[str], database: str, what: str) -> str:
        psql = shutil.which("psql")
        if psql is None:
            raise RuntimeError("psql not found: install postgresql-client")
        done = subprocess.run(
            [psql, "-h", self.pg_host, "-p", str(self.pg_port), "-U", self.pg_user, "-d", database]
            + ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        )
        if done.returncode:
            raise RuntimeError(f"psql failed on {what!r}: {done.stderr.strip()}")
        return done.stdout.strip()

    def _start(self) -> None:
        site_packages = sorted(self.venv_dir.glob("lib/python3*/site-packages/alerta"))
        if not site_packages:
            raise RuntimeError(f"{self.venv_dir}: no alerta-server; call ensure_alerta() first")
        self._recreate_database()
        self.postmaster_pid = self._find_postmaster()
        # Each worker runs schema.sql at start; on an empty database four concurrent runs race
        # (CREATE TYPE history …) and a worker can fail to boot. Applying it once first makes
        # their runs no-ops.
        self.psql_file(site_packages[-1] / "sql" / "schema.sql", database=self.database)

        self._tmp = tempfile.TemporaryDirectory(prefix="alerta-bench-")
        tmp = Path(self._tmp.name)
        ready_dir = tmp / "ready"
        ready_dir.mkdir()
        self.port = _free_port()
        database_url = f"postgresql://{self.pg_user}@{self.pg_host}:{self.pg_port}/{self.database}"
        alertad_conf = _ALERTAD_CONF.format(database_url=database_url)
        if not self.forwarder:
            alertad_conf += _NO_FORWARDER
        (tmp / "alertad.conf").write_text(alertad_conf)
        (tmp / "gunicorn.conf.py").write_text(
            _GUNICORN_CONF.format(
                bind=f"127.0.0.1:{self.port}",
                workers=self.workers,
                errorlog=str(tmp / "gunicorn.log"),
                ready_dir=str(ready_dir),
            )
        )
        bin_dir = self.venv_dir / "bin"
        # A minimal environment: Alerta reads DATABASE_URL, PLUGINS, AUTH_REQUIRED, SENTRY_DSN…
        # from the environment before its config file, and the caller's must not leak in.
        env = {
            "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(tmp),
            "LANG": "C.UTF-8",
            "ALERTA_SVR_CONF_FILE": str(tmp / "alertad.conf"),
        }
        self._proc = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "--config", str(tmp / "gunicorn.conf.py")]
            + ["alerta.app:create_app()"],
            cwd=tmp,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_ready(ready_dir)

    def _find_postmaster(self) -> int | None:
        try:
            data_dir = Path(self.psql("SHOW data_directory"))
            return int((data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, RuntimeError, ValueError, IndexError):
            return None

    def _recreate_database(self) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{self.database}"')

    def _wait_ready(self, ready_dir: Path) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self._proc.returncode}):\n{self._log()}")
            if len(list(ready_dir.iterdir())) >= self.workers and self._get(READY_PATH) == 200:
                return
            time.sleep(0.1)
        raise TimeoutError(f"Alerta not ready after {self.start_timeout:g} s:\n{self._log()}")

    def _get(self, path: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status
        except OSError:
            return 0
        finally:
            conn.close()

    def _log(self, lines: int = 30) -> str:
        if self._tmp is None:
            return ""
        log = Path(self._tmp.name) / "gunicorn.log"
        return "\n".join(log.read_text().splitlines()[-lines:]) if log.exists() else ""

    def _stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown
                try:
                    self._proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(self._proc.pid, signal.SIGKILL)  # its own session: master + workers
                    self._proc.wait()
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self.psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def post_storm(
    url: str,
    posts: Sequence[Mapping[str, Any]],
    *,
    clients: int = 4,
    timeout: float = 120.0,
    headers: Mapping[str, str] | None = None,
    on_send: Callable[[int, float], None] | None = None,
    on_answer: Callable[[int, float], None] | None = None,
) -> PostStats:
    """POST every body as JSON to `url` from `clients` threads sharing one queue.

    `headers` are added to every post (e.g. a bearer token); `on_send(index, perf_counter())` is
    called as each post goes out, `on_answer(index, perf_counter())` as its answer comes back.

    A new connection per post, as Alertmanager does. Wall time runs from the first post to the
    last answer; a post that gets a non-2xx answer or no answer counts as failed.
    """
    target = _split_url(url)
    bodies: queue.SimpleQueue[tuple[int, bytes]] = queue.SimpleQueue()
    for index, post in enumerate(posts):
        bodies.put((index, json.dumps(post).encode()))
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        while True:
            try:
                index, body = bodies.get_nowait()
            except queue.Empty:
                return
            began = time.perf_counter()
            if on_send is not None:
                on_send(index, began)
            error = _post_once(target, body, timeout, headers or {})
            answered = time.perf_counter()
            if on_answer is not None:
                on_answer(index, answered)
            elapsed = answered - began
            with lock:
                latencies.append(elapsed)
                if error:
                    errors.append(error)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    alerts = sum(len(post["alerts"]) for post in posts)
    return PostStats(
        posts=len(posts),
        alerts=alerts,
        seconds=seconds,
        alerts_per_s=alerts / seconds if seconds else 0.0,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        failed_posts=len(errors),
        errors=tuple(errors[:5]),
    )


def _split_url(url: str) -> tuple[str, int, str]:
    """(host, port, path) of an http:// URL."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"need an http:// URL, got {url!r}")
    path = parts.path or "/"
    return parts.hostname, parts.port or 80, path + (f"?{parts.query}" if parts.query else "")


def _post_once(
    target: tuple[str, int, str], body: bytes, timeout: float, headers: Mapping[str, str]
) -> str | None:
    host, port, path = target
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(
            "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
        )
        response = conn.getresponse()
        answer = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    if 200 <= response.status < 300:
        return None
    return f"HTTP {response.status}: {answer[:200].decode(errors='replace')}"


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def measure_alerta(
    posts: Sequence[Mapping[str, Any]],
    *,
    clients: int = 4,
    forwarder: bool = True,
    venv_dir: Path = DEFAULT_VENV,
    workers: int = 4,
) -> AlertaResult:
    """Post `posts` to a fresh Alerta (installed on first use) and count what it stored."""
    ensure_alerta(venv_dir)
    with AlertaServer(venv_dir, forwarder=forwarder, workers=workers) as alerta:
        before = _CpuSample.take(alerta)
        stats = post_storm(alerta.webhook_url, posts, clients=clients)
        after = _CpuSample.take(alerta)
        stored = alerta.stored_alerts()
    server = (after.alerta - before.alerta) + (after.postgres - before.postgres)
    machine = after.machine_busy - before.machine_busy
    capacity = (after.machine_total - before.machine_total) or 1.0
    others = machine - server - (after.client - before.client)
    return AlertaResult(
        **dataclasses.asdict(stats),
        stored_alerts=stored,
        forwarder=forwarder,
        server_cpu_s=server,
        others_busy=max(0.0, others / capacity),
    )


@dataclasses.dataclass(frozen=True)
class _CpuSample:
    """CPU seconds so far (Linux /proc): the machine's, and those of the processes under test."""

    machine_busy: float
    machine_total: float
    alerta: float  # gunicorn master, its reaped and its live workers
    postgres: float  # the postmaster, its reaped and its live backends (all databases)
    client: float  # this process

    @classmethod
    def take(cls, server: AlertaServer) -> _CpuSample:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = ticks[3] + ticks[4]  # idle + iowait
        times = os.times()
        return cls(
            machine_busy=(sum(ticks) - idle) / _HZ,
            machine_total=sum(ticks) / _HZ,
            alerta=_tree_cpu(server.pid),
            postgres=_tree_cpu(server.postmaster_pid),
            client=times.user + times.system,
        )


_HZ = os.sysconf("SC_CLK_TCK")


def _tree_cpu(pid: int | None) -> float:
    """CPU seconds of a process, its reaped children and its live children (0 if unknown)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    for child in children:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited between the two reads
        ticks += int(fields[11]) + int(fields[12])
    return ticks / _HZ


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _median(results: Sequence[AlertaResult], field: str) -> float:
    return statistics.median(float(getattr(r, field)) for r in results)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--variant", choices=("shipped", "no-forwarder", "both"), default="both")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(HERE))
    from alert_payloads import group_ids, storm_posts, total_alerts

    began = time.perf_counter()
    ensure_alerta(args.venv)
    print(f"alerta venv ready in {time.perf_counter() - began:.1f} s: {args.venv}")
    posts = storm_posts()
    print(
        f"storm: {total_alerts(posts):,} alerts in {len(posts)} posts, "
        f"{len(group_ids(posts))} groups, {args.clients} clients"
    )
    variants = {"shipped": [True], "no-forwarder": [False], "both": [True, False]}[args.variant]
    for forwarder in variants:
        results = []
        for run in range(1, args.runs + 1):
            began = time.perf_counter()
            result = measure_alerta(
                posts, clients=args.clients, forwarder=forwarder, venv_dir=args.venv
            )
            results.append(result)
            print(
                f"  {'shipped' if forwarder else 'no forwarder'} run {run}: "
                f"{result.alerts_per_s:,.0f} alerts/s, p50 {result.p50_ms:,.0f} ms, "
                f"p99 {result.p99_ms:,.0f} ms, failed {result.failed_posts}, "
                f"stored {result.stored_alerts:,}; server CPU {result.server_cpu_s:.1f} s, "
                f"other processes {result.others_busy:.0%} of the machine "
                f"({time.perf_counter() - began:.1f} s with start/stop)"
            )
            for error in result.errors:
                print(f"    {error}")
        print(
            f"Alerta {'as shipped' if forwarder else 'without forwarder'} "
            f"(median of {len(results)}): {_median(results, 'alerts_per_s'):,.0f} alerts/s, "
            f"p50/p99 per post {_median(results, 'p50_ms'):,.0f}/"
            f"{_median(results, 'p99_ms'):,.0f} ms, "
            f"failed posts {_median(results, 'failed_posts'):.0f}, "
            f"stored {_median(results, 'stored_alerts'):,.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
