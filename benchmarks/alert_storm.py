"""Alert storm: 10,000 alerts in 100 Alertmanager posts over 500 groups, ticketbot vs Alerta.

For SQLite and PostgreSQL: `ticketbot run` as its own process against the Slack emulator (rate
limits on) and a local SMTP sink; prints accept throughput, tickets created, Slack API calls, 429s,
latency from a group's first alert to its ticket showing in the technician channel (its card, or
its line in the storm summary), and peak RSS. Then the same posts against Alerta on PostgreSQL.

    python benchmarks/alert_storm.py [--postgres URL] [--repeat 1] [--skip-alerta]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from alert_payloads import CLIENTS, storm_posts, total_alerts  # noqa: E402
from alerta_peer import measure_alerta, percentile, post_storm  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bot.sandbox.mail import MailSink  # noqa: E402
from bot.sandbox.process import BotProcess  # noqa: E402
from bot.sandbox.slack.emulator import SlackEmulator  # noqa: E402
from storage.models import Ticket  # noqa: E402

TECH, MANAGER, TECHS = "CTECHS", "UMAYA", ("UTOM", "UTARA")
TOKEN = "bench-" + "t" * 32
CARD_ID = re.compile(r"#(\d+)\b")
SUMMARY_ID = re.compile(r"\*#(\d+)\*")
TITLE_GROUP = re.compile(r"_(\d+) on host-")


@dataclass
class Run:
    alerts_per_s: float
    post_p50_ms: float
    post_p99_ms: float
    failed_posts: int
    tickets: int
    slack_calls: int
    ratelimited: int
    visible: int
    latency_p50_ms: float
    latency_p99_ms: float
    answer_p50_ms: float  # from the post's 200 to the channel: the delivery side alone
    answer_p99_ms: float
    peak_rss_mb: float


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Watcher:
    """Notes when each ticket first shows in the technician channel (card or storm summary)."""

    def __init__(self, emu: SlackEmulator) -> None:
        self._emu = emu
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        versions: dict[str, int] = {}  # message ts → how many edits were already read
        while not self._stop.wait(0.02):
            now = time.perf_counter()
            for msg in self._emu.messages(TECH):
                if versions.get(msg.ts) == len(msg.updates):
                    continue  # unchanged since the last look: keep the watcher cheap
                versions[msg.ts] = len(msg.updates)
                top = not msg.thread_ts or msg.thread_ts == msg.ts
                if "Alert storm" in msg.text:
                    ids = SUMMARY_ID.findall(str(msg.blocks))
                elif top:
                    found = CARD_ID.search(msg.text)
                    ids = [found.group(1)] if found else []
                else:
                    ids = []  # cards in the storm's thread: the summary showed them first
                for n in ids:
                    self.seen.setdefault(int(n), now)


def add_clients(bot: BotProcess) -> None:
    for n, name in enumerate(CLIENTS):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bot",
                "clients",
                "add",
                "--name",
                name.capitalize(),
                "--domain",
                f"{name}.example",
                "--contact-email",
                f"it@{name}.example",
                "--slack-channel",
                f"CCLIENT{n}",
                "--alert-label",
                f"client={name}",
            ],
            env=bot.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )


def run_ticketbot(
    database_url: str, posts: list[dict[str, object]], storm_threshold: int | None
) -> Run:
    secret = "bench-" + os.urandom(8).hex()
    with SlackEmulator(signing_secret=secret, bot_token="xoxb-bench") as emu, MailSink() as mail:
        emu.enforce_rate_limits = True
        emu.add_user(MANAGER, "Maya Manager", email="maya@msp.example")
        for t in TECHS:
            emu.add_user(t, f"Tech {t}", email=f"{t.lower()}@msp.example")
        emu.add_channel(TECH, "technicians", members=[MANAGER, *TECHS])
        for n, name in enumerate(CLIENTS):
            emu.add_channel(f"CCLIENT{n}", f"{name}-help")
        bot = BotProcess(
            {
                "SLACK_BOT_TOKEN": emu.bot_token,
                "SLACK_SIGNING_SECRET": secret,
                "SLACK_API_URL": emu.api_url,
                "TICKETBOT_TECH_CHANNEL": TECH,
                "TICKETBOT_MANAGERS": MANAGER,
                "TICKETBOT_TECHNICIANS": ",".join(TECHS),
                "DATABASE_URL": database_url,
                "SMTP_URL": mail.url,
                "EMAIL_FROM": "helpdesk@msp.example",
                "ALERT_WEBHOOK_TOKEN": TOKEN,
                **(
                    {"TICKETBOT_ALERT_STORM_THRESHOLD": str(storm_threshold)}
                    if storm_threshold
                    else {}
                ),
            }
        )
        bot.migrate()
        add_clients(bot)
        bot.start()
        try:
            calls_before = emu.stats.api_calls
            sent: dict[int, float] = {}
            answered: dict[int, float] = {}
            with Watcher(emu) as watcher:
                stats = post_storm(
                    f"http://127.0.0.1:{bot.port}/alerts/alertmanager",
                    posts,
                    clients=4,
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    on_send=sent.__setitem__,
                    on_answer=answered.__setitem__,
                )
                engine = create_engine(database_url)
                with engine.connect() as conn:
                    rows = conn.execute(select(Ticket.id, Ticket.title)).all()
                    created = conn.scalar(select(func.count()).select_from(Ticket)) or 0
                engine.dispose()
                deadline = time.monotonic() + 60
                while len(watcher.seen) < created and time.monotonic() < deadline:
                    time.sleep(0.1)  # a benchmark's own pacing, not a test
            per_post = len(posts[0]["alerts"]) // 20 or 1  # groups per post (20 alerts each)
            latencies, after_answer = [], []
            for ticket_id, title in rows:
                group = TITLE_GROUP.search(title)
                if group is None or ticket_id not in watcher.seen:
                    continue
                post_index = int(group.group(1)) // per_post
                latencies.append((watcher.seen[ticket_id] - sent[post_index]) * 1000)
                after_answer.append((watcher.seen[ticket_id] - answered[post_index]) * 1000)
            return Run(
                alerts_per_s=stats.alerts_per_s,
                post_p50_ms=stats.p50_ms,
                post_p99_ms=stats.p99_ms,
                failed_posts=stats.failed_posts,
                tickets=int(created),
                slack_calls=emu.stats.api_calls - calls_before,
                ratelimited=emu.stats.ratelimited,
                visible=len(watcher.seen),
                latency_p50_ms=percentile(latencies, 50),
                latency_p99_ms=percentile(latencies, 99),
                answer_p50_ms=percentile(after_answer, 50),
                answer_p99_ms=percentile(after_answer, 99),
                peak_rss_mb=rss_peak_mb(bot.pid),
            )
        finally:
            bot.stop()
            errors = bot.error_lines()
            if errors:
                print(f"  the bot logged {len(errors)} errors ({bot.log_path}): {errors[0]}")


def show(label: str, r: Run) -> None:
    print(
        f"{label:<11} accept {r.alerts_per_s:,.0f} alerts/s (post p50 {r.post_p50_ms:.0f} ms, "
        f"p99 {r.post_p99_ms:.0f} ms, {r.failed_posts} failed)  tickets {r.tickets}  "
        f"Slack calls {r.slack_calls} (429s: {r.ratelimited})  visible {r.visible}  "
        f"first-alert→channel p50 {r.latency_p50_ms:.0f} ms p99 {r.latency_p99_ms:.0f} ms "
        f"(from the post's answer: p50 {r.answer_p50_ms:.0f} ms p99 {r.answer_p99_ms:.0f} ms)  "
        f"peak RSS {r.peak_rss_mb:.0f} MB",
        flush=True,
    )


def median_run(runs: list[Run]) -> Run:
    fields = Run.__dataclass_fields__
    return Run(**{k: statistics.median(getattr(r, k) for r in runs) for k in fields})  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-alerta", action="store_true")
    parser.add_argument(
        "--storm-threshold", type=int, help="TICKETBOT_ALERT_STORM_THRESHOLD (default: the bot's)"
    )
    args = parser.parse_args()
    posts = storm_posts()
    print(f"{total_alerts(posts):,} alerts in {len(posts)} posts, 500 groups; 4 clients")
    results: dict[str, Run] = {}
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'storm.db'}")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for label, url in targets:
            runs = []
            for i in range(args.repeat):
                if url.startswith("sqlite"):
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
                else:
                    reset_postgres(url)
                runs.append(run_ticketbot(url, posts, args.storm_threshold))
                show(f"{label} #{i + 1}", runs[-1])
            results[label] = median_run(runs)
            if args.repeat > 1:
                show(f"{label} med", results[label])
    if args.skip_alerta or not args.postgres:
        return 0
    alerta = [measure_alerta(posts) for _ in range(args.repeat)]
    rate = statistics.median(a.alerts_per_s for a in alerta)
    stored = statistics.median(a.stored_alerts for a in alerta)
    print(
        f"Alerta      accept {rate:,.0f} alerts/s (forwarder plugin on, as shipped); "
        f"stored {stored:,.0f} alerts"
    )
    for label, r in results.items():
        print(f"ratio       ticketbot on {label} / Alerta: {r.alerts_per_s / rate:.1f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
