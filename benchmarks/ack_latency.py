"""Ack latency of the real bot in HTTP mode: signed /ticket commands and button clicks.

Starts `ticketbot run` as its own process (HTTP mode, uvicorn) against the local Slack emulator,
then sends signed requests from N concurrent clients, a new connection per request as Slack does.
Prints p50/p95/p99 latency, requests/s, and the bot's idle and peak RSS, for SQLite and, when
TEST_DATABASE_URL (or --postgres URL) is given, PostgreSQL; with --repeat, the databases take turns
and medians follow. Each round also measures the floor: the same serving stack (uvicorn, our
/slack/events endpoint, Bolt) with listeners that only ack, under the same load; on a shared host
that tells a slow round from a slower bot, so every result is also printed as a ratio to the
floor of its round.

With --roles split (PostgreSQL only) the rounds are: the floor, everything in one process, one
`run --role web` with one `run --role worker`, and two web processes (on two ports, the load
generator sending each request to the next port in turn, as a round-robin balancer would) with one
worker. The PostgreSQL server gets a database of the benchmark's own, dropped at the end.

    python benchmarks/ack_latency.py [--requests 2000] [--concurrency 20] [--repeat N]
                                     [--postgres URL] [--no-floor] [--roles all|split]
                                     [--py-spy]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.messages import ids  # noqa: E402
from bot.sandbox.slack.emulator import SlackEmulator  # noqa: E402
from bot.sandbox.slack.wire import sign  # noqa: E402

TECH, MANAGER, TECHS, EMPLOYEE, CLIENT = "CTECHS", "UMAYA", ("UTOM", "UTARA"), "UERIN", "CACMEHELP"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def host_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole host so far, every core (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / tick, sum(fields) / tick


def postgres_backends(url: str | None) -> list[int]:
    """The server processes serving `url`'s database now (PostgreSQL on this host)."""
    if url is None or not url.startswith("postgresql"):
        return []
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        pids = conn.scalars(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
    engine.dispose()
    return [int(p) for p in pids]


def cpu_of(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            out[pid] = cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):  # gone meanwhile
            continue
    return out


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@contextmanager
def bench_database(server_url: str) -> Iterator[str]:
    """A database of this run's own on the PostgreSQL server of `server_url`, dropped after."""
    from sqlalchemy import create_engine, make_url, text

    url = make_url(server_url)
    name = f"ticketbot_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Server:
    """A server process of ours on a free port, its log in a file; started when /healthz answers."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        # The log goes to a file: a pipe nobody reads would fill and stall the server.
        fd, path = tempfile.mkstemp(prefix="ticketbot-bench-", suffix=".log")
        os.close(fd)
        self.log_path = Path(path)
        self.log = self.log_path.open("wb")  # noqa: SIM115 - open for the server's whole life
        self.proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                threading.Event().wait(0.1)
        self.stop()
        raise RuntimeError(f"{argv} did not start; its log: {self.log_path}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()

    def failures_logged(self) -> list[str]:
        """Error lines of the log (for the summary)."""
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if " ERROR " in line]


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TICKETBOT_", "SMTP_")) and "proxy" not in k.lower()
    }


def bot_env(emu: SlackEmulator, secret: str, database_url: str) -> dict[str, str]:
    env = _clean_env()
    env.update(
        {
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": emu.api_url,
            "TICKETBOT_TECH_CHANNEL": TECH,
            "TICKETBOT_MANAGERS": MANAGER,
            "TICKETBOT_TECHNICIANS": ",".join(TECHS),
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PYTHON_DOTENV_DISABLED": "1",
        }
    )
    return env


def start_bot(env: dict[str, str], role: str = "all") -> Server:
    """`ticketbot run --role ROLE` in HTTP mode on a free port."""
    port = free_port()
    argv = [sys.executable, "-m", "bot", "run", "--role", role]
    return Server(argv, {**env, "PORT": str(port)}, port)


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )


@dataclass
class Deployment:
    """The processes of one measured set-up: `web` take the requests (in turn), all count for
    CPU."""

    web: list[Server]
    others: list[Server]
    database_url: str | None = None

    @property
    def ports(self) -> list[int]:
        return [w.port for w in self.web]

    @property
    def servers(self) -> list[Server]:
        return [*self.web, *self.others]


def start_floor(secret: str) -> Server:
    """The floor: this script's `--serve-floor` (the HTTP stack, listeners that only ack)."""
    port = free_port()
    env = _clean_env()
    env.update({"FLOOR_SIGNING_SECRET": secret, "FLOOR_PORT": str(port)})
    return Server([sys.executable, str(Path(__file__).resolve()), "--serve-floor"], env, port)


def serve_floor() -> None:
    """Serve /slack/events as `ticketbot run` does (uvicorn, our ASGI endpoint, Bolt on the same
    pool, the same GC tuning), with a /ticket listener and a Request-help listener that only ack:
    what the serving stack alone costs on this host right now."""
    from concurrent.futures import ThreadPoolExecutor

    import uvicorn
    from slack_bolt import Ack, App
    from slack_bolt.authorization import AuthorizeResult

    from bot.app.process import tune_gc, uvicorn_config
    from bot.app.runtime import SLACK_THREADS
    from bot.app.web import build_web_app
    from bot.telemetry.metrics import Metrics

    def authorize(**_: object) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=None, team_id="T0EMU", bot_user_id="UBOT", bot_id="BBOT", bot_token="x"
        )

    bolt = App(
        signing_secret=os.environ["FLOOR_SIGNING_SECRET"],
        authorize=authorize,
        process_before_response=True,
    )

    @bolt.command(ids.COMMAND)
    def command(ack: Ack) -> None:
        ack(text="ok", response_type="ephemeral")

    @bolt.action(ids.REQUEST_HELP)
    def click(ack: Ack) -> None:
        ack()

    web = build_web_app(
        bolt=bolt,
        signing_secret=os.environ["FLOOR_SIGNING_SECRET"],
        healthy=lambda: True,
        metrics=Metrics(),
        slack_pool=ThreadPoolExecutor(max_workers=SLACK_THREADS),
    )
    server = uvicorn.Server(uvicorn_config(web, "127.0.0.1", int(os.environ["FLOOR_PORT"])))
    tune_gc()
    server.run()


def command_body(n: int) -> tuple[bytes, str]:
    form = {
        "token": "x",
        "team_id": "T0EMU",
        "team_domain": "emu",
        "channel_id": CLIENT,
        "channel_name": "acme-help",
        "user_id": EMPLOYEE,
        "user_name": "erin",
        "command": ids.COMMAND,
        "text": f"printer {n} on floor 3 jammed",
        "api_app_id": "A0EMU",
        "response_url": "http://127.0.0.1:9/unused",
        "trigger_id": f"{n}.1.bench",
    }
    return urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"


def click_body(n: int, ticket_id: int) -> tuple[bytes, str]:
    user = TECHS[n % 2]
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0EMU"},
        "api_app_id": "A0EMU",
        "team": {"id": "T0EMU", "domain": "emu"},
        "container": {"type": "message", "message_ts": "1.0", "channel_id": TECH},
        "channel": {"id": TECH, "name": "technicians"},
        "trigger_id": f"{n}.2.bench",
        "actions": [
            {
                "type": "button",
                "action_id": ids.REQUEST_HELP,
                "block_id": "b",
                "value": str(ticket_id),
                "action_ts": str(time.time()),
            }
        ],
    }
    return (
        "payload=" + urllib.parse.quote(json.dumps(payload))
    ).encode(), "application/x-www-form-urlencoded"


def send(port: int, secret: str, body: bytes, content_type: str) -> tuple[float, int]:
    ts = str(int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(secret, ts, body),
    }
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/slack/events", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000, status


def load(
    ports: list[int], secret: str, bodies: list[tuple[bytes, str]], concurrency: int
) -> tuple[list[float], int, float]:
    """Send every body from `concurrency` threads, request i to ports[i % len(ports)]."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    queue = list(reversed(list(enumerate(bodies))))

    def worker() -> None:
        nonlocal failures
        while True:
            with lock:
                if not queue:
                    return
                i, (body, ctype) = queue.pop()
            ms, status = send(ports[i % len(ports)], secret, body, ctype)
            with lock:
                latencies.append(ms)
                if status != 200:
                    failures += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures, time.perf_counter() - started


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# Where a profiled process spends the time it holds the GIL, by what the stack passes through.
PROFILE_PARTS = {
    "SQLAlchemy": "(sqlalchemy/",
    "psycopg": "(psycopg/",
    "Bolt": "(slack_bolt/",
    "uvicorn + asyncio": ("(uvicorn/", "(asyncio/"),
    "render": "(bot/render/",
    "bot/service": "(bot/service/",
}


class Profile:
    """py-spy recording the first web process during the measured load (GIL-holding samples
    only: its CPU in Python), summarised as shares of those samples."""

    def __init__(self, pid: int) -> None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        fd, path = tempfile.mkstemp(prefix="ticketbot-spy-", suffix=".txt")
        os.close(fd)
        self.path = Path(path)
        argv = [spy, "record", "-p", str(pid), "--gil", "--nonblocking", "-r", "200"]
        self.proc = subprocess.Popen(
            [*argv, "-f", "raw", "-o", path],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def summary(self, elapsed: float) -> str:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(30)
        parts = {name: 0 for name in PROFILE_PARTS}
        ours: dict[str, int] = {}
        samples = 0
        for line in self.path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            n = int(count)
            samples += n
            for name, marks in PROFILE_PARTS.items():
                if any(m in stack for m in ((marks,) if isinstance(marks, str) else marks)):
                    parts[name] += n
            frames = [f for f in stack.split(";") if "(bot/" in f or "(handlers/" in f]
            if frames:
                deepest = frames[-1].split(" (")[0]
                ours[deepest] = ours.get(deepest, 0) + n
        if not samples:
            return "py-spy recorded nothing (is it installed, and may it attach?)"
        held = samples / 200 / elapsed * 100
        shares = ", ".join(f"{k} {v / samples * 100:.0f} %" for k, v in parts.items())
        top = sorted(ours.items(), key=lambda kv: -kv[1])[:5]
        frames_text = ", ".join(f"{k} {v / samples * 100:.0f} %" for k, v in top)
        return (
            f"py-spy, first web process: holds the GIL {held:.0f} % of the time; of that, "
            f"{shares}; deepest frames of ours: {frames_text}"
        )


def measure(
    deployment: Deployment,
    secret: str,
    requests: int,
    concurrency: int,
    *,
    profile: bool = False,
) -> tuple[dict[str, float], str | None]:
    """Warm up, then the measured mix: half /ticket commands, half Request-help clicks. RSS is
    the first web process's; CPU is every process's of the deployment. With `profile`, also
    where the first web process's time went."""
    threading.Event().wait(1.0)
    first = deployment.web[0].proc.pid
    pids = [s.proc.pid for s in deployment.servers]
    idle = rss_kb(first)
    warm = [command_body(i) for i in range(100)]
    _, warm_fail, _ = load(deployment.ports, secret, warm, concurrency)
    bodies = []
    for i in range(requests):
        bodies.append(command_body(1000 + i) if i % 2 == 0 else click_body(i, 1 + i % 50))
    workers = [s.proc.pid for s in deployment.others]
    server_cpu, own_cpu = sum(cpu_seconds(p) for p in pids), sum(os.times()[:2])
    worker_cpu = sum(cpu_seconds(p) for p in workers)
    db_before = cpu_of(postgres_backends(deployment.database_url))
    host_busy, host_total = host_cpu()
    spy = Profile(first) if profile else None
    latencies, failures, elapsed = load(deployment.ports, secret, bodies, concurrency)
    profiled = spy.summary(elapsed) if spy is not None else None
    busy, total = host_cpu()
    host_busy, host_total = busy - host_busy, total - host_total
    server_cpu = sum(cpu_seconds(p) for p in pids) - server_cpu
    worker_cpu = sum(cpu_seconds(p) for p in workers) - worker_cpu
    own_cpu = sum(os.times()[:2]) - own_cpu
    # Backends the pools opened during the run count from zero.
    db_after = cpu_of(postgres_backends(deployment.database_url))
    db_cpu = sum(after - db_before.get(pid, 0.0) for pid, after in db_after.items())
    peak = rss_kb(first, "VmHWM")
    figures = {
        "p50": pct(latencies, 50),
        "p95": pct(latencies, 95),
        "p99": pct(latencies, 99),
        "rps": len(latencies) / elapsed,
        "failed": failures + warm_fail,
        "idle_mb": idle / 1024,
        "peak_mb": peak / 1024,
        "bot_cpu_ms": server_cpu / requests * 1000,
        "worker_cpu_ms": worker_cpu / requests * 1000,
        "load_cpu_ms": own_cpu / requests * 1000,
        "db_cpu_ms": db_cpu / requests * 1000,
        "host_busy": host_busy / host_total * 100 if host_total else 0.0,
    }
    figures.update(cpu_bound(figures, concurrency))
    return figures, profiled


def cpu_bound(figures: dict[str, float], concurrency: int) -> dict[str, float]:
    """What the host's cores allow, whatever the code's latency: every process of the round (the
    bot's, PostgreSQL's, the load generator's and the emulator's) shares them, so the CPU a request
    costs caps the throughput, and at `concurrency` requests in flight the mean latency is at least
    concurrency / that cap (Little's law)."""
    cpu_ms = figures["bot_cpu_ms"] + figures["db_cpu_ms"] + figures["load_cpu_ms"]
    if cpu_ms <= 0:  # a run too short for the kernel's CPU clock ticks
        return {"bound_rps": float("inf"), "bound_mean_ms": 0.0}
    most_rps = (os.cpu_count() or 1) * 1000 / cpu_ms
    return {"bound_rps": most_rps, "bound_mean_ms": concurrency / most_rps * 1000}


# The set-ups a round can measure: label → (the web processes' role, how many, how many workers).
SETUPS = {
    "SQLite": ("all", 1, 0),
    "PostgreSQL": ("all", 1, 0),
    "split 1 web": ("web", 1, 1),
    "split 2 web": ("web", 2, 1),
}


def run_one(
    label: str,
    database_url: str,
    requests: int,
    concurrency: int,
    floor: dict[str, float] | None,
    *,
    profile: bool = False,
) -> dict[str, float]:
    role, webs, workers = SETUPS[label]
    secret = "bench-" + os.urandom(8).hex()
    with SlackEmulator(signing_secret=secret, bot_token="xoxb-bench") as emu:
        emu.add_user(MANAGER, "Maya Manager", email="maya@msp.example")
        for t in TECHS:
            emu.add_user(t, f"Tech {t}", email=f"{t.lower()}@msp.example")
        emu.add_user(EMPLOYEE, "Erin Employee", email="erin@acme.example")
        emu.add_channel(TECH, "technicians", members=[MANAGER, *TECHS])
        emu.add_channel(CLIENT, "acme-help", members=[EMPLOYEE])
        env = bot_env(emu, secret, database_url)
        migrate(env)
        deployment = Deployment(web=[], others=[], database_url=database_url)
        try:
            for _ in range(webs):
                deployment.web.append(start_bot(env, role))
            for _ in range(workers):
                deployment.others.append(start_bot(env, "worker"))
            result, profiled = measure(deployment, secret, requests, concurrency, profile=profile)
        finally:
            for server in deployment.servers:
                server.stop()
        for server in deployment.servers:
            _report_errors(server)
    print(f"{label:<11} {requests} req @ {concurrency} concurrent: {_figures(result)}", flush=True)
    _print_ratios(result, floor)
    if profiled is not None:
        print(f"{'':<11} {profiled}", flush=True)
    return result


def run_floor(requests: int, concurrency: int) -> dict[str, float]:
    secret = "bench-" + os.urandom(8).hex()
    floor = start_floor(secret)
    try:
        result, _ = measure(Deployment(web=[floor], others=[]), secret, requests, concurrency)
    finally:
        floor.stop()
    _report_errors(floor)
    print(
        f"{'floor':<11} {requests} req @ {concurrency} concurrent: {_figures(result)}", flush=True
    )
    return result


RATIOS = ("p50", "p95", "p99", "rps", "bot_cpu_ms")


def ratios(result: dict[str, float], floor: dict[str, float]) -> dict[str, float]:
    return {k: result[k] / floor[k] if floor[k] else float("nan") for k in RATIOS}


def _print_ratios(result: dict[str, float], floor: dict[str, float] | None) -> None:
    if floor is None:
        return
    r = ratios(result, floor)
    print(
        f"{'':<11} × floor: p50 {r['p50']:.2f}  p95 {r['p95']:.2f}  p99 {r['p99']:.2f}  "
        f"req/s {r['rps']:.2f}  CPU/request {r['bot_cpu_ms']:.2f}",
        flush=True,
    )
    print(f"{'':<11} {_bound(result, floor)}", flush=True)


def _bound(result: dict[str, float], floor: dict[str, float]) -> str:
    return (
        f"the host's CPU allows at most {result['bound_rps']:.0f} req/s, so a mean latency of at "
        f"least {result['bound_mean_ms']:.1f} ms = {result['bound_mean_ms'] / floor['p99']:.2f} × "
        "the floor's p99"
    )


def _report_errors(server: Server) -> None:
    errors = server.failures_logged()
    if errors:
        print(f"  {len(errors)} errors logged ({server.log_path}); first: {errors[0]}")


def _figures(r: dict[str, float]) -> str:
    return (
        f"p50 {r['p50']:.1f} ms  p95 {r['p95']:.1f} ms  p99 {r['p99']:.1f} ms  "
        f"{r['rps']:.0f} req/s  failed {int(r['failed'])}  "
        f"RSS idle {r['idle_mb']:.0f} MB  peak {r['peak_mb']:.0f} MB  "
        f"CPU/request: bot {r['bot_cpu_ms']:.1f} ms{_of_which_worker(r)}, "
        f"PostgreSQL {r['db_cpu_ms']:.1f} ms, "
        f"load generator + emulator {r['load_cpu_ms']:.1f} ms; host CPU busy "
        f"{r['host_busy']:.0f} % of {os.cpu_count()} cores"
    )


def _of_which_worker(r: dict[str, float]) -> str:
    return f" (worker {r['worker_cpu_ms']:.1f} ms)" if r["worker_cpu_ms"] else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="rounds (medians printed)")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--no-floor", action="store_true", help="skip the no-op floor runs")
    parser.add_argument(
        "--roles",
        choices=["all", "split"],
        default="all",
        help="all: one process per database; split: PostgreSQL in one process, then web and "
        "worker processes",
    )
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="profile the first web process of each set-up with py-spy (pip install py-spy)",
    )
    parser.add_argument("--serve-floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        serve_floor()
        return 0
    if args.roles == "split" and not args.postgres:
        parser.error("--roles split needs PostgreSQL: --postgres URL or TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.postgres:
            return rounds(args, sqlite_dir=tmp, postgres_url=None)
        with bench_database(args.postgres) as url:
            return rounds(args, sqlite_dir=tmp, postgres_url=url)


def rounds(args: argparse.Namespace, *, sqlite_dir: str, postgres_url: str | None) -> int:
    """The floor and the set-ups take turns, so that each meets the same changes in the host's
    speed; every set-up is compared with the floor of its own round."""
    labels = ["SQLite"] if args.roles == "all" else []
    if postgres_url is not None:
        labels.append("PostgreSQL")
    if args.roles == "split":
        labels += ["split 1 web", "split 2 web"]
    print(
        "half /ticket <text> commands (a ticket each), half Request-help clicks; "
        "a new connection per request"
    )
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in ["floor", *labels]}
    for i in range(args.repeat):
        floor = None if args.no_floor else run_floor(args.requests, args.concurrency)
        if floor is not None:
            runs["floor"].append(floor)
        for label in labels:
            if label == "SQLite":
                url = f"sqlite:///{sqlite_dir}/bench{i}.db"
            else:
                assert postgres_url is not None
                reset_postgres(postgres_url)
                url = postgres_url
            result = run_one(
                label, url, args.requests, args.concurrency, floor, profile=args.py_spy
            )
            if floor is not None:
                result.update({f"{k}_x": v for k, v in ratios(result, floor).items()})
            runs[label].append(result)
    if args.repeat > 1:
        floors = runs["floor"]
        floor_med = {}
        if floors:
            floor_med = {k: statistics.median(f[k] for f in floors) for k in floors[0]}
        for label, results in runs.items():
            if not results:
                continue
            med = {k: statistics.median(r[k] for r in results) for k in results[0]}
            print(f"{label:<11} median of {args.repeat}: {_figures(med)}")
            if "p99_x" in med:
                print(f"{'':<11} median bound: {_bound(med, floor_med)}")
                print(
                    f"{'':<11} × floor, median of the rounds' ratios: p50 {med['p50_x']:.2f}  "
                    f"p95 {med['p95_x']:.2f}  p99 {med['p99_x']:.2f}  req/s {med['rps_x']:.2f}  "
                    f"CPU/request {med['bot_cpu_ms_x']:.2f}"
                )
    one, two = runs.get("split 1 web", []), runs.get("split 2 web", [])
    if one and two:
        gains = [b["rps"] / a["rps"] for a, b in zip(one, two, strict=True)]
        allowed = [b["bound_rps"] / a["rps"] for a, b in zip(one, two, strict=True)]
        print(
            f"2 web processes vs 1 (same round): throughput × "
            f"{' '.join(f'{g:.2f}' for g in gains)} (median {statistics.median(gains):.2f}); "
            f"the host's CPU would allow at most × {' '.join(f'{g:.2f}' for g in allowed)} "
            f"(median {statistics.median(allowed):.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
