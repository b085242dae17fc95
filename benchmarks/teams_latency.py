"""Teams latency of the real bot next to its Slack ack, in the same run against the same process.

Starts `ticketbot run` as its own process (HTTP mode, uvicorn; Slack technicians and Teams
technicians both on, the client's employee in Teams and in Slack) against the local Slack emulator
and Bot Connector stand-in, then sends from N concurrent clients, interleaved, a new connection per
request: (a) card clicks, `adaptiveCard/action` invokes answered with the refreshed card (priority
picker, Request help, Make critical on fresh tickets); (b) message activities: `ticket <title>` in
the employee's 1:1 chat and technicians' replies in a card's thread; (c) signed Slack /ticket
commands and Request-help clicks. Every activity carries a real RS256 JWT the SDK validates.
Prints p50/p90/p99/max and requests/s per kind, SQLite and, with --postgres URL, PostgreSQL; with
--repeat, the runs take turns and medians follow. The floor is ack_latency.py's: the Slack serving
stack with listeners that only ack, under the same Slack load.

    python benchmarks/teams_latency.py [--requests 2000] [--concurrency 20] [--repeat N]
                                       [--postgres URL] [--no-floor]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import ack_latency  # noqa: E402
from ack_latency import Server, command_body, cpu_seconds, free_port, pct, reset_postgres  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bot.app.clients import ClientSpec, add_client  # noqa: E402
from bot.domain.clock import SystemClock  # noqa: E402
from bot.messages import ids  # noqa: E402
from bot.sandbox.slack.emulator import SlackEmulator  # noqa: E402
from bot.sandbox.slack.wire import sign  # noqa: E402
from bot.sandbox.stack import CLIENT_TENANT, MSP_TENANT, TEAMS_APP_ID  # noqa: E402
from bot.sandbox.teams.connector import BotConnector, TeamsChannel  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import ChatMessage, Ticket  # noqa: E402

TECH, MANAGER, TECHS, EMPLOYEE, CLIENT = "CTECHS", "UMAYA", ("UTOM", "UTARA"), "UERIN", "CACMEHELP"
MSP, ACME = "msp.example", "acme.example"
KINDS = ("teams click", "teams ticket", "teams reply", "slack ack")
CLICKS = (ids.SET_PRIORITY, ids.REQUEST_HELP, ids.MAKE_CRITICAL)  # in this order on each ticket
CARD = "application/vnd.microsoft.card.adaptive"
POOL_TIMEOUT = 120.0


@dataclass(frozen=True)
class Request:
    kind: str  # one of KINDS
    path: str
    body: bytes
    content_type: str
    teams: bool


@dataclass
class Outcome:
    latencies: dict[str, list[float]]
    failed: dict[str, int]
    refused: int  # card clicks answered with a message instead of the refreshed card
    elapsed: float


class Teams:
    """The Bot Connector stand-in with the MSP's staff, its technicians' channel and the client's
    employee; `token` signs every activity of the run (one valid JWT, as Teams reuses its own)."""

    def __init__(self) -> None:
        self.connector = BotConnector(TEAMS_APP_ID, MSP_TENANT).start()
        c = self.connector
        self.manager = c.add_user("Maya Manager", f"maya@{MSP}")
        self.techs = [c.add_user("Tom Tech", f"tom@{MSP}"), c.add_user("Tara Tech", f"tara@{MSP}")]
        self.employee = c.add_user("Erin Employee", f"erin@{ACME}", tenant_id=CLIENT_TENANT)
        self.channel: TeamsChannel = c.add_channel("Technicians", [self.manager, *self.techs])
        self.token = c.sign()

    def close(self) -> None:
        self.connector.close()


def start_bot(emu: SlackEmulator, teams: Teams, secret: str, database_url: str) -> Server:
    """`ticketbot run` (HTTP mode) serving /slack/events and /api/messages, its database migrated
    and the client company added (its Slack channel and its Microsoft 365 tenant)."""
    engine = make_engine(database_url)
    upgrade(engine)
    with make_session_factory(engine).begin() as s:
        spec = ClientSpec(
            name="Acme Corp",
            domains=[ACME],
            contact_email=f"carl@{ACME}",
            slack_channel=CLIENT,
            teams_tenant=CLIENT_TENANT,
        )
        add_client(s, spec, SystemClock().now())
    engine.dispose()
    c = teams.connector
    port = free_port()
    env = {
        k: v
        for k, v in ack_latency._clean_env().items()
        if not k.startswith(("TEAMS_", "CLIENT_", "TENANT_")) and k != "PORT"
    }
    env.update(
        {
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": emu.api_url,
            "TICKETBOT_TECH_CHANNEL": TECH,
            # By email: the same person in Slack and in Teams. The technicians are the members
            # of the two technician channels.
            "TICKETBOT_MANAGERS": f"maya@{MSP}",
            "TEAMS_APP_ID": c.app_id,
            "TEAMS_APP_PASSWORD": c.password,
            "TEAMS_TENANT_ID": c.tenant_id,
            "TEAMS_SERVICE_URL": c.service_url,
            "TEAMS_OPENID_METADATA_URL": c.openid_metadata_url,
            "TEAMS_LOGIN_URL": c.login_url,
            "TEAMS_TECH_CHANNEL": teams.channel.id,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "PYTHON_DOTENV_DISABLED": "1",
            **c.ca_environment(),
        }
    )
    return Server([sys.executable, "-m", "bot", "run"], env, port)


# ---- requests --------------------------------------------------------------------------------
def _activity(activity: dict[str, object], kind: str) -> Request:
    return Request(kind, "/api/messages", json.dumps(activity).encode(), "application/json", True)


def teams_ticket(teams: Teams, n: int) -> Request:
    acts = teams.connector.activities
    activity = acts.personal_message(teams.employee, f"ticket Laptop {n} will not boot")
    return _activity(activity, "teams ticket")


def teams_reply(teams: Teams, n: int, root: str) -> Request:
    acts = teams.connector.activities
    tech = teams.techs[n % 2]
    activity = acts.thread_reply(tech, teams.channel, root, f"Checked the logs, step {n}")
    return _activity(activity, "teams reply")


def teams_click(teams: Teams, n: int, ticket_id: int, verb: str, card: str | None) -> Request:
    """A technician's click on the ticket's card (its activity id once the outbox posted it)."""
    c = teams.connector
    card_id = card or c.next_activity_id()
    data: dict[str, object] = {"ticket": ticket_id}
    if verb == ids.SET_PRIORITY:
        data["priority"] = "high"
    where = c.activities.channel(teams.channel, card_id)
    activity = c.activities.card_action(teams.techs[n % 2], where, verb, data, card_id)
    return _activity(activity, "teams click")


def slack_command(n: int) -> Request:
    body, ctype = command_body(n)
    return Request("slack ack", "/slack/events", body, ctype, False)


def slack_click(n: int, ticket_id: int) -> Request:
    body, ctype = ack_latency.click_body(n, ticket_id)
    return Request("slack ack", "/slack/events", body, ctype, False)


def send(port: int, secret: str, token: str, request: Request) -> tuple[float, int, bytes]:
    headers = {"Content-Type": request.content_type}
    if request.teams:
        headers["Authorization"] = f"Bearer {token}"
    else:
        ts = str(int(time.time()))
        headers["X-Slack-Request-Timestamp"] = ts
        headers["X-Slack-Signature"] = sign(secret, ts, request.body)
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", request.path, body=request.body, headers=headers)
        response = conn.getresponse()
        body = response.read()
        status = response.status
    except OSError:
        status, body = 0, b""
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000, status, body


def load(port: int, secret: str, token: str, requests: list[Request], concurrency: int) -> Outcome:
    outcome = Outcome({k: [] for k in KINDS}, dict.fromkeys(KINDS, 0), 0, 0.0)
    lock = threading.Lock()
    queue = list(reversed(requests))

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                request = queue.pop()
            ms, status, body = send(port, secret, token, request)
            refused = request.kind == "teams click" and status == 200 and _refused(body)
            with lock:
                outcome.latencies[request.kind].append(ms)
                if not 200 <= status < 300:
                    outcome.failed[request.kind] += 1
                outcome.refused += refused

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcome.elapsed = time.perf_counter() - started
    return outcome


def _refused(body: bytes) -> bool:
    try:
        return bool(json.loads(body).get("type") != CARD)
    except (ValueError, AttributeError):
        return True


# ---- a run -----------------------------------------------------------------------------------
def _pool(database_url: str, want: int) -> tuple[list[int], dict[int, str]]:
    """The tickets opened so far and the Teams card activity ids delivered for them."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as s:
            tickets = [int(i) for i in s.scalars(select(Ticket.id).order_by(Ticket.id))]
            rows = s.execute(
                select(ChatMessage.ticket_id, ChatMessage.ts).where(
                    ChatMessage.role == "card", ChatMessage.surface == "teams"
                )
            )
            cards = {int(t): str(ts) for t, ts in rows}
    finally:
        engine.dispose()
    return tickets[:want], cards


def _wait_pool(database_url: str, want: int, threads: int) -> tuple[list[int], dict[int, str]]:
    """Wait until `want` tickets exist and the first `threads` have their Teams card (the outbox
    posts to one Teams channel at Teams' pace, about two a second)."""
    deadline = time.monotonic() + POOL_TIMEOUT
    while True:
        tickets, cards = _pool(database_url, want)
        if len(tickets) >= want and all(t in cards for t in tickets[:threads]):
            return tickets, cards
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(tickets)} tickets, {len(cards)} Teams cards in time")
        threading.Event().wait(0.2)


def measure(
    bot: Server, teams: Teams, secret: str, database_url: str, requests: int, concurrency: int
) -> dict[str, float]:
    """Open a pool of fresh tickets (the warm-up), then the measured mix, interleaved: a fifth
    each of Teams clicks, Teams `ticket <title>` messages, Teams thread replies, Slack /ticket
    commands and Slack Request-help clicks (the last two are the "slack ack" row)."""
    token, port = teams.token, bot.port
    per_kind = max(1, requests // 5)
    pool_size = max(1, -(-per_kind // len(CLICKS)))
    threads = min(8, pool_size)
    warm = [teams_ticket(teams, i) for i in range(pool_size)]
    warm += [slack_command(i) for i in range(max(10, pool_size // 2))]
    warm_out = load(port, secret, token, warm, concurrency)
    tickets, cards = _wait_pool(database_url, pool_size, threads)
    roots = [cards[t] for t in tickets[:threads]]
    batch: list[Request] = []
    for i in range(per_kind):
        ticket_id = tickets[i % pool_size]
        verb = CLICKS[(i // pool_size) % len(CLICKS)]
        batch += [
            teams_click(teams, i, ticket_id, verb, cards.get(ticket_id)),
            teams_ticket(teams, 1000 + i),
            teams_reply(teams, i, roots[i % threads]),
            slack_command(1000 + i),
            slack_click(i, ticket_id),
        ]
    bot_cpu, own_cpu = cpu_seconds(bot.proc.pid), sum(os.times()[:2])
    out = load(port, secret, token, batch, concurrency)
    bot_cpu = cpu_seconds(bot.proc.pid) - bot_cpu
    own_cpu = sum(os.times()[:2]) - own_cpu
    result: dict[str, float] = {
        "failed": sum(out.failed.values()) + sum(warm_out.failed.values()),
        "refused": out.refused,
        "rps": len(batch) / out.elapsed,
        "bot_cpu_ms": bot_cpu / len(batch) * 1000,
        "load_cpu_ms": own_cpu / len(batch) * 1000,
    }
    for kind in KINDS:
        result |= _figures_of(kind, out.latencies[kind], out.elapsed)
    return result


def _figures_of(kind: str, values: list[float], elapsed: float) -> dict[str, float]:
    if not values:
        return {}
    return {
        f"{kind}:p50": pct(values, 50),
        f"{kind}:p90": pct(values, 90),
        f"{kind}:p99": pct(values, 99),
        f"{kind}:max": max(values),
        f"{kind}:rps": len(values) / elapsed,
    }


def run_one(label: str, database_url: str, requests: int, concurrency: int) -> dict[str, float]:
    secret = "bench-" + os.urandom(8).hex()
    teams = Teams()
    try:
        with SlackEmulator(signing_secret=secret, bot_token="xoxb-bench") as emu:
            emu.add_user(MANAGER, "Maya Manager", email=f"maya@{MSP}")
            for t, name in zip(TECHS, ("Tom", "Tara"), strict=True):
                emu.add_user(t, f"{name} Tech", email=f"{name.lower()}@{MSP}")
            emu.add_user(EMPLOYEE, "Erin Employee", email=f"erin@{ACME}")
            emu.add_channel(TECH, "technicians", members=[MANAGER, *TECHS])
            emu.add_channel(CLIENT, "acme-help", members=[EMPLOYEE])
            bot = start_bot(emu, teams, secret, database_url)
            try:
                result = measure(bot, teams, secret, database_url, requests, concurrency)
            finally:
                bot.stop()
            ack_latency._report_errors(bot)
    finally:
        teams.close()
    print_table(f"{label}, {requests} requests @ {concurrency} concurrent", result, KINDS)
    return result


def run_floor(requests: int, concurrency: int) -> dict[str, float]:
    """ack_latency.py's floor (Bolt on our serving stack, listeners that only ack) under this
    run's Slack load: its /ticket commands and Request-help clicks."""
    secret = "bench-" + os.urandom(8).hex()
    floor = ack_latency.start_floor(secret)
    try:
        load(floor.port, secret, "", [slack_command(i) for i in range(100)], concurrency)
        n = max(2, 2 * (requests // 5))
        batch = [slack_command(i) if i % 2 == 0 else slack_click(i, 1) for i in range(n)]
        out = load(floor.port, secret, "", batch, concurrency)
    finally:
        floor.stop()
    ack_latency._report_errors(floor)
    result = {"failed": float(out.failed["slack ack"]), "refused": 0.0, "rps": n / out.elapsed}
    result |= _figures_of("slack ack", out.latencies["slack ack"], out.elapsed)
    print_table(f"floor, {n} Slack requests @ {concurrency} concurrent", result, ("slack ack",))
    return result


def print_table(title: str, r: dict[str, float], kinds: tuple[str, ...]) -> None:
    lines = [
        title,
        f"  {'kind':<14} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'req/s':>7}",
    ]
    for kind in kinds:
        if f"{kind}:p50" not in r:
            continue
        cells = [f"{r[f'{kind}:{k}']:>8.1f}" for k in ("p50", "p90", "p99", "max")]
        lines.append(f"  {kind:<14} {' '.join(cells)} {r[f'{kind}:rps']:>7.0f}")
    summary = f"  all: {r['rps']:.0f} req/s, failed {int(r['failed'])}"
    if "bot_cpu_ms" in r:
        summary += (
            f", clicks refused {int(r['refused'])}, CPU/request: bot {r['bot_cpu_ms']:.1f} ms, "
            f"load generator + stand-ins {r['load_cpu_ms']:.1f} ms"
        )
    lines.append(summary)
    print("\n".join(lines), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per run")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="runs per database (medians printed)")
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="also run on this PostgreSQL database; it is WIPED (schema public dropped) before "
        "each run: give a dedicated database",
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the Slack floor runs")
    args = parser.parse_args()
    targets: list[tuple[str, tuple[str, ...], Callable[[int], dict[str, float]]]] = []
    if not args.no_floor:
        floor = ("slack ack",)
        targets.append(("floor", floor, lambda _: run_floor(args.requests, args.concurrency)))
    with tempfile.TemporaryDirectory() as tmp:

        def sqlite(i: int) -> dict[str, float]:
            url = f"sqlite:///{tmp}/bench{i}.db"
            return run_one("SQLite", url, args.requests, args.concurrency)

        def postgres(_: int) -> dict[str, float]:
            reset_postgres(args.postgres)
            return run_one("PostgreSQL", str(args.postgres), args.requests, args.concurrency)

        targets.append(("SQLite", KINDS, sqlite))
        if args.postgres:
            targets.append(("PostgreSQL", KINDS, postgres))
        print(
            "teams click: adaptiveCard/action invoke (priority, Request help, Make critical on "
            "fresh tickets), answered with the refreshed card\nteams ticket: `ticket <title>` "
            "in a 1:1 chat, and teams reply: a technician's reply in a card's thread (the "
            "acknowledgement of a message activity)\nslack ack: signed "
            "/ticket commands and Request-help clicks\na new connection per request\n",
            flush=True,
        )
        # The floor and the databases take turns, so that each meets the same changes in the
        # host's speed.
        runs: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in targets}
        for i in range(args.repeat):
            for label, _, run in targets:
                runs[label].append(run(i))
        if args.repeat > 1:
            for label, kinds, _ in targets:
                results = runs[label]
                med = {k: statistics.median(r[k] for r in results) for k in results[0]}
                print_table(f"{label}: median of {args.repeat} runs", med, kinds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
